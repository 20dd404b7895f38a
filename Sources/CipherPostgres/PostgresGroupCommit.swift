import CipherRelay

/// The envelopes waiting for the next batch, and the writer's state. Pure state, changed only
/// under the store's lock; the store does the I/O.
struct PostgresGroupCommit {
    /// An `enqueue` call waiting for its batch's statement to decide its envelope's fate.
    struct Waiting {
        let envelope: NewEnvelope
        let quota: Int
        let decided: CheckedContinuation<(EnqueueResult, CommitSignal), any Error>
    }

    private(set) var waiting: [Waiting] = []
    /// Set while a writer task drains `waiting`; fired when it stops.
    private(set) var writerStopped: CommitSignal?
    /// The signal of the newest batch taken; batches commit one after another, so once it
    /// fires every envelope enqueued before is settled.
    private(set) var latestSignal: CommitSignal?
    private(set) var commitCount = 0
    var isClosed = false

    /// Adds a call to the next batch; true when no writer runs and the caller must start one.
    mutating func add(_ call: Waiting) -> Bool {
        waiting.append(call)
        guard writerStopped == nil else { return false }
        writerStopped = CommitSignal()
        return true
    }

    /// Takes everything waiting as one batch, or stops the writer when nothing waits.
    mutating func takeBatch() -> (calls: [Waiting], signal: CommitSignal)? {
        guard !waiting.isEmpty else {
            writerStopped?.finish(.success(()))
            writerStopped = nil
            return nil
        }
        let calls = waiting
        waiting = []
        let signal = CommitSignal()
        latestSignal = signal
        return (calls, signal)
    }

    mutating func recordCommit() { commitCount += 1 }
}
