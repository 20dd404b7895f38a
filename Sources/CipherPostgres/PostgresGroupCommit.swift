import CipherRelay

/// What waits for the next batch — `enqueue` calls and acknowledgements — and the writer's
/// state. Pure state, changed only under the store's lock; the store does the I/O.
struct PostgresGroupCommit {
    /// An `enqueue` call waiting for its batch's statement to decide its envelope's fate.
    struct Waiting {
        let envelope: NewEnvelope
        let quota: QueueQuota
        let decided: CheckedContinuation<(EnqueueResult, CommitSignal), any Error>
    }

    struct Deletion: Hashable {
        let recipient: String
        let deliveryID: UInt64
    }

    struct Batch {
        let calls: [Waiting]
        let deletions: [Deletion]
        /// Fired once the batch's transaction has committed: what it stored is visible.
        let committed: CommitSignal
        /// Fired once that commit is on disk.
        let signal: CommitSignal
    }

    private var waiting: [Waiting] = []
    private var deletions: [Deletion] = []
    /// Acknowledged envelopes whose deletion has not committed yet, by recipient: `pending`
    /// leaves them out.
    private(set) var uncommittedDeletions: [String: Set<UInt64>] = [:]
    /// Set while a writer task drains what waits; fired when it stops.
    private(set) var writerStopped: CommitSignal?
    /// The signals of the newest batch taken; batches commit one after another, so once they
    /// fire everything enqueued or acknowledged before is visible, or durable.
    private(set) var latestCommitted: CommitSignal?
    private(set) var latestSignal: CommitSignal?
    /// Where acknowledgements made now will be committed: the next batch's signal.
    private var nextSignal = CommitSignal()
    private(set) var commitCount = 0
    var isClosed = false

    /// Adds a call to the next batch; true when no writer runs and the caller must start one.
    mutating func add(_ call: Waiting) -> Bool {
        waiting.append(call)
        return startsWriter()
    }

    /// Adds deletions to the next batch; the signal they commit with, and whether the caller
    /// must start a writer.
    mutating func acknowledge(recipient: String, deliveryIDs: [UInt64]) -> (signal: CommitSignal, startWriter: Bool) {
        for id in deliveryIDs where uncommittedDeletions[recipient, default: []].insert(id).inserted {
            deletions.append(Deletion(recipient: recipient, deliveryID: id))
        }
        return (nextSignal, startsWriter())
    }

    private mutating func startsWriter() -> Bool {
        guard writerStopped == nil else { return false }
        writerStopped = CommitSignal()
        return true
    }

    /// Takes everything waiting as one batch, or stops the writer when nothing waits.
    mutating func takeBatch() -> Batch? {
        guard !waiting.isEmpty || !deletions.isEmpty else {
            writerStopped?.finish(.success(()))
            writerStopped = nil
            return nil
        }
        let batch = Batch(calls: waiting, deletions: deletions, committed: CommitSignal(), signal: nextSignal)
        waiting = []
        deletions = []
        latestCommitted = batch.committed
        latestSignal = nextSignal
        nextSignal = CommitSignal()
        return batch
    }

    /// Records the end of a batch's transaction. Deletions of a failed batch are forgotten:
    /// the envelopes stay queued and are delivered again, which the recipient drops by id.
    mutating func finish(_ batch: Batch, committed: Bool) {
        for deletion in batch.deletions {
            uncommittedDeletions[deletion.recipient]?.remove(deletion.deliveryID)
            if uncommittedDeletions[deletion.recipient]?.isEmpty == true { uncommittedDeletions[deletion.recipient] = nil }
        }
        if committed { commitCount += 1 }
    }
}
