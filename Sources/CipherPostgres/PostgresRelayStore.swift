import CipherRelay
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The `RelayStore` on PostgreSQL, which several relay instances share: the database is the
/// truth for accounts, prekeys and queues, and every decision that must hold across instances
/// (a name registered once, a one-time prekey handed out once, duplicates, quotas, the order of
/// a recipient's queue) is taken inside it.
///
/// Envelopes are stored by group commit, as in the SQLite store: concurrent `enqueue` calls
/// gather while the previous batch is written, and each batch is one transaction (one call of
/// `cipherchat_enqueue`, one commit). `enqueue` returns once the batch's statement has decided
/// the envelope's fate and delivery id; `EnqueueTicket.durable()` waits for the commit.
///
/// Each commit NOTIFYs the recipients it queued for; `queueWakeups` yields those named by
/// other instances, so that the relay pushes to its own connections at once (see
/// `SharedQueueSignals`).
public final class PostgresRelayStore: RelayStore, SharedQueueSignals, Sendable {
    /// What an operator or a test may check about an open store.
    public struct Diagnostics: Sendable, Hashable {
        /// The migrations applied to the database, in order.
        public let appliedMigrations: [Int]
    }

    let client: PostgresClient
    /// Connections for the queue's batches, which commit without waiting for the disk
    /// (`synchronous_commit = off`); `WALFlusher` makes them durable, many at a time.
    let queueClient: PostgresClient
    let flusher: WALFlusher
    let logger: Logger
    /// The deadline of each store operation (`PostgresRelayStore+Deadline.swift`).
    let operationTimeout: Duration
    /// Names this process in the NOTIFY payloads, so it ignores its own.
    let instanceID = UUID().uuidString
    let groupCommit = Mutex(PostgresGroupCommit())
    /// Recipients whose `queue_counts` row is known to exist (rows are never deleted).
    let knownCounters = Mutex<Set<String>>([])
    private let runTask: Task<Void, Never>
    private let listener: QueueListener

    /// Connects, brings the schema up to date, and starts listening for other instances'
    /// commits. Each later operation fails with `StoreUnavailableError` when it cannot finish
    /// within `operationTimeout`.
    public static func connect(
        to location: PostgresLocation, logger: Logger, operationTimeout: Duration = defaultOperationTimeout
    ) async throws -> PostgresRelayStore {
        // Migrations first, on a connection of their own, before the pool runs.
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try location.connectionConfiguration, id: 0, logger: logger
            )
            do {
                try await PostgresSchema.migrate(on: connection, logger: logger)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
        } catch let error as PostgresRelayStoreError {
            throw error
        } catch {
            throw PostgresRelayStoreError.cannotOpen(loggedError(error))
        }
        let client = PostgresClient(configuration: location.clientConfiguration, backgroundLogger: logger)
        var queueConfiguration = location.clientConfiguration
        queueConfiguration.options.additionalStartupParameters = [("synchronous_commit", "off")]
        queueConfiguration.options.maximumConnections = 2
        let queueClient = PostgresClient(configuration: queueConfiguration, backgroundLogger: logger)
        let runTask = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                group.addTask { await queueClient.run() }
            }
        }
        let store = PostgresRelayStore(
            client: client, queueClient: queueClient, runTask: runTask, logger: logger, operationTimeout: operationTimeout
        )
        do {
            try await store.listener.listening.wait()
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    private init(
        client: PostgresClient, queueClient: PostgresClient, runTask: Task<Void, Never>, logger: Logger, operationTimeout: Duration
    ) {
        self.client = client
        self.queueClient = queueClient
        self.operationTimeout = operationTimeout
        flusher = WALFlusher(client: client, instanceID: instanceID, timeout: operationTimeout, logger: logger)
        self.runTask = runTask
        self.logger = logger
        listener = QueueListener(client: client, instanceID: instanceID, logger: logger)
    }

    public var queueWakeups: AsyncStream<String> { listener.wakeups }

    /// The number of transactions that stored enqueued envelopes: fewer than the envelopes
    /// when concurrent enqueues were batched.
    public var commitCount: Int { groupCommit.withLock { $0.commitCount } }

    public func diagnostics() async throws -> Diagnostics {
        Diagnostics(appliedMigrations: try await PostgresSchema.appliedVersions(client, logger: logger))
    }

    /// Waits for the batches under way, then stops listening and closes the connections.
    /// Calls made after `close` fail. While the database is down this waits for as long as
    /// postgres-nio retries; a relay stopping bounds it (`Deadline`) and leaves the rest: what a
    /// sender was told is stored had committed before, and nothing else needs to finish.
    public func close() async throws {
        let (wasClosed, latest) = groupCommit.withLock { state in
            defer { state.isClosed = true }
            return (state.isClosed, state.latestSignal)
        }
        guard !wasClosed else { return }
        await groupCommit.withLock { $0.writerStopped }?.settled()
        await latest?.settled()
        await flusher.forget()
        listener.stop()
        runTask.cancel()
        await runTask.value
    }
}
