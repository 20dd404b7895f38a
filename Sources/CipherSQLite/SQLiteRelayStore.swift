import CipherRelay
import Dispatch
import GRDB
import Glibc
import Synchronization

/// The durable `RelayStore`: one SQLite file, owned by one relay process (the queue's
/// bookkeeping in memory assumes nobody else writes the file).
///
/// Commits are durable (`synchronous = FULL`: the WAL is synced at every commit), so their
/// cost is a disk sync. Envelopes are therefore written by group commit: `enqueue` gives an
/// envelope its delivery id and place in memory at once, and a serial writer stores everything
/// accepted since its last write in one transaction (see `SQLiteRelayStore+Queue.swift`).
///
/// A `DatabasePool` rather than a `DatabaseQueue`: the writer spends most of its time in that
/// sync, and with a pool (WAL mode) reads — the duplicate lookup inside `enqueue`, `pending`,
/// account lookups — run on their own connections alongside it instead of queueing behind
/// every commit.
public final class SQLiteRelayStore: RelayStore, Sendable {
    /// What an operator or a test may check about an open database.
    public struct Diagnostics: Sendable, Hashable {
        /// `wal` when the database runs in write-ahead-log mode.
        public let journalMode: String
        /// The writer connection's `PRAGMA synchronous`: 2 is FULL.
        public let synchronous: Int
        /// The migrations applied to this file, in order.
        public let appliedMigrations: [String]
    }

    /// How long a statement waits for a lock another process holds (a backup, the sqlite3
    /// shell) before failing with SQLITE_BUSY.
    static let busyTimeoutSeconds = 5.0

    /// Delivery ids handed out ahead of the database. An envelope is pushed to an online
    /// recipient before its commit; if the relay dies before that commit, its id must not go
    /// to another envelope after restart, or the recipient's late acknowledgement of it would
    /// delete the wrong one. So the database always records a high-water mark this far past
    /// the last id handed out (at open and in every batch's transaction), and a restarted
    /// relay continues above it. Ids are 63-bit, so skipping this many per restart is free.
    static let deliveryIDReserve: UInt64 = 1 << 20

    /// How often `enqueue` repeats its duplicate check when batches settle meanwhile.
    static let enqueueAttempts = 64

    let pool: DatabasePool
    let groupCommit: Mutex<GroupCommitState>
    /// The serial writer for the queue: batches of envelopes and deletions, and expiry run
    /// here one after another, in the order they were scheduled.
    let queueWriter = DispatchQueue(label: "CipherSQLite.queueWriter")

    /// Opens the database at `path`, creating it if needed, and brings its schema up to date.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeoutSeconds)
        configuration.label = "CipherSQLite"
        try Self.refuseIfDamaged(path: path)
        pool = try DatabasePool(path: path, configuration: configuration)
        // The pool turns WAL on and sets synchronous = NORMAL, which may lose the last commits
        // on power loss; a relay acknowledges a message to its sender only once it is stored,
        // so the writer connection is set back to FULL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }

        let migrator = RelaySchema.migrator
        if try pool.read({ db in try migrator.hasBeenSuperseded(db) }) {
            throw SQLiteRelayStoreError.schemaFromNewerVersion
        }
        try migrator.migrate(pool)
        groupCommit = Mutex(try pool.write { db in try Self.loadQueueState(db) })
    }

    /// Refuses a database that is damaged or is not one, before anything writes to it: a damaged
    /// page would otherwise surface as an INTERNAL answer to whichever client touches it, and
    /// the file stays as it was for whoever repairs it. `quick_check` reads every page once
    /// (without the index cross-checks of `integrity_check`): a start pays it, no request does.
    private static func refuseIfDamaged(path: String) throws {
        guard access(path, F_OK) == 0 else { return }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeoutSeconds)
        do {
            let verdict = try DatabaseQueue(path: path, configuration: configuration).read { db in
                try String.fetchAll(db, sql: "PRAGMA quick_check")
            }
            guard verdict == ["ok"] else { throw SQLiteRelayStoreError.damaged }
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            throw SQLiteRelayStoreError.damaged
        }
    }

    /// The number of transactions that stored enqueued envelopes: fewer than the envelopes
    /// when concurrent enqueues were batched.
    public var commitCount: Int { groupCommit.withLock { $0.commitCount } }

    /// Stores the envelopes still waiting for their batch, then closes the database. Calls
    /// made after `close` fail.
    public func close() async throws {
        let wasClosed = groupCommit.withLock { state in
            defer { state.isClosed = true }
            return state.isClosed
        }
        guard !wasClosed else { return }
        try await onQueueWriter {
            self.flushOpenBatch()
            // Everything into the database file and the log emptied: a stopped relay leaves
            // one file, so a copy of relay.sqlite alone is a whole backup. Should a reader
            // still hold the log, the next start replays it instead.
            _ = try? self.pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            try self.pool.close()
        }
    }

    public func diagnostics() async throws -> Diagnostics {
        let migrator = RelaySchema.migrator
        return try await pool.writeWithoutTransaction { db in
            Diagnostics(
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                appliedMigrations: try migrator.appliedMigrations(db)
            )
        }
    }

    /// Runs `body` on the queue writer, after everything scheduled there before it, without
    /// holding a thread of Swift's cooperative pool while it waits for the disk.
    func onQueueWriter<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queueWriter.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Reads what the queue bookkeeping starts from, and reserves the delivery ids this run
    /// may hand out before its first commit.
    private static func loadQueueState(_ db: Database) throws -> GroupCommitState {
        let highestStored = try Int64.fetchOne(db, sql: "SELECT max(delivery_id) FROM queue") ?? 0
        let highestReserved = try Int64.fetchOne(
            db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [queueTable]
        ) ?? 0
        let nextDeliveryID = UInt64(sqlite: max(highestStored, highestReserved)) + 1
        try reserveDeliveryIDs(through: nextDeliveryID - 1 + deliveryIDReserve, db)

        let queuedKeys = try Row.fetchAll(db, sql: "SELECT recipient, sender, client_message_id FROM queue")
            .map(GroupCommitState.EnvelopeKey.init(row:))
        return GroupCommitState(nextDeliveryID: nextDeliveryID, queuedKeys: queuedKeys)
    }

    static let queueTable = "queue"

    /// Raises the queue's AUTOINCREMENT high-water mark (never lowers it).
    static func reserveDeliveryIDs(through highest: UInt64, _ db: Database) throws {
        let arguments: StatementArguments = [Int64(sqlite: highest), queueTable]
        try db.execute(sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", arguments: arguments)
        if db.changesCount == 0 {
            try db.execute(sql: "INSERT INTO sqlite_sequence (seq, name) VALUES (?, ?)", arguments: arguments)
        }
    }
}
