import CipherRelay
import Logging
import PostgresNIO
import Synchronization

/// LISTENs on the queue channel on a connection of its own, and yields the recipients that
/// other instances queued envelopes for. A notification is only a wake-up: when the connection
/// drops, notifications sent meanwhile are lost, which the relay's poll of the stored queue
/// covers; the listener reconnects after a pause.
final class QueueListener: Sendable {
    static let reconnectPause = Duration.seconds(1)

    let wakeups: AsyncStream<String>
    /// Fires once the first LISTEN is in place (or failed), so that a store handed out
    /// misses no commit made after it.
    let listening = CommitSignal()
    private let task: Task<Void, Never>

    init(client: PostgresClient, instanceID: String, logger: Logger) {
        let (wakeups, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(10_000))
        self.wakeups = wakeups
        let listening = listening
        task = Task {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: PostgresSchema.queueChannel) { notifications in
                            listening.finish(.success(()))
                            for try await notification in notifications {
                                // "INSTANCE RECIPIENT": a commit of this process was pushed already.
                                let parts = notification.payload.split(separator: " ", maxSplits: 1)
                                guard parts.count == 2, parts[0] != instanceID else { continue }
                                continuation.yield(String(parts[1]))
                            }
                        }
                    }
                } catch {
                    listening.finish(.failure(error))
                    if Task.isCancelled { break }
                    logger.warning("listening for queue notifications failed; retrying", metadata: ["error": "\(loggedError(error))"])
                }
                try? await Task.sleep(for: Self.reconnectPause)
            }
            listening.finish(.failure(PostgresRelayStoreError.closed))
            continuation.finish()
        }
    }

    func stop() { task.cancel() }
}
