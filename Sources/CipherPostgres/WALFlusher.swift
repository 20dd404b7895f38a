import CipherRelay
import Logging
import PostgresNIO
import Synchronization

/// Makes asynchronously committed batches durable, many at a time: one synchronous commit of a
/// small write (this instance's row in `durability_marks`) waits until the log is on disk up to
/// its own record, which lies after the records of every batch that committed before it
/// started. (A transaction that writes nothing does not wait for the disk, even with an id.)
/// Batches that commit while a flush runs wait for the next.
final class WALFlusher: Sendable {
    private let client: PostgresClient
    private let instanceID: String
    private let timeout: Duration
    private let logger: Logger
    private let state = Mutex<(waiting: [CommitSignal], running: Bool)>(([], false))

    init(client: PostgresClient, instanceID: String, timeout: Duration, logger: Logger) {
        self.client = client
        self.instanceID = instanceID
        self.timeout = timeout
        self.logger = logger
    }

    /// Fires `signal` once everything committed before this call is durable.
    func flush(_ signal: CommitSignal) {
        let start = state.withLock { state in
            state.waiting.append(signal)
            defer { state.running = true }
            return !state.running
        }
        if start { Task { await self.run() } }
    }

    private func run() async {
        while true {
            let signals = state.withLock { state in
                defer { state.waiting = [] }
                if state.waiting.isEmpty { state.running = false }
                return state.waiting
            }
            guard !signals.isEmpty else { return }
            let outcome: Result<Void, any Error>
            do {
                // Bounded, so that senders waiting on this flush hear of an outage rather than
                // wait for the end of it; a flush abandoned so only leaves batches unacknowledged.
                let flushed = try await Deadline.result(by: .now + timeout) { [client, instanceID, logger] in
                    try await client.query("""
                        INSERT INTO durability_marks (instance, marks) VALUES (\(instanceID), 1)
                        ON CONFLICT (instance) DO UPDATE SET marks = durability_marks.marks + 1
                        """, logger: logger)
                    return true
                }
                outcome = flushed == nil ? .failure(StoreUnavailableError.timedOut(after: timeout)) : .success(())
            } catch {
                logger.error("making committed envelopes durable failed", metadata: ["error": "\(loggedError(error))"])
                outcome = .failure(error)
            }
            for signal in signals { signal.finish(outcome) }
        }
    }

    /// Removes this instance's row, at close.
    func forget() async {
        _ = try? await client.query("DELETE FROM durability_marks WHERE instance = \(instanceID)", logger: logger)
    }
}
