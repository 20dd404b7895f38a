import CipherCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import GRDB
import Synchronization

/// The client's local store: one SQLite file in the user's home directory (`client.db`).
/// Settings that are not secret (the relay's address and certificate pin, the username) are
/// stored plainly; every secret (the identity, prekey private keys, sessions, contacts,
/// history) is an item sealed with the `StorageKey`, which is itself sealed under the
/// passphrase (PROTOCOL.md 4.3 and 4.5).
final class ClientStore: Sendable {
    let database: DatabaseQueue
    let storageKey: StorageKey
    /// This process's exclusive hold on the home: no store is opened without it, and it is
    /// released only when the store is.
    let ownership: HomeOwnership
    /// Set by `close`: every write is refused afterwards.
    private let released = Mutex(false)
    let random = SystemRandomSource()
    /// Items already read or written, unsealed: a message would otherwise read and unseal
    /// its session, contact and windows from the file each time. Every write goes through
    /// `commit`, which updates it, and no other process writes the file while this one owns
    /// the home (HomeOwnership), so the cache cannot go stale.
    private let itemCache = Mutex(ItemCache())
    /// Which commits are known to be on disk. A durable commit syncs the write-ahead log,
    /// which holds every earlier commit too. Updated inside the database queue's serialized
    /// writes, so the numbering follows the order of the commits themselves.
    private let syncProgress = Mutex(SyncProgress())

    private struct SyncProgress {
        var lastCommit = 0
        var syncedThrough = 0
    }

    private struct ItemKey: Hashable {
        let kind: String
        let name: String
    }

    private struct ItemCache {
        /// A value of nil records that the item is absent.
        var items: [ItemKey: [UInt8]?] = [:]
    }

    static let fileName = "client.db"

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-settings-items-history-outbox") { db in
            try db.create(table: "setting") { table in
                table.primaryKey("name", .text)
                table.column("value", .text).notNull()
            }
            try db.create(table: "item") { table in
                table.column("kind", .text).notNull()
                table.column("name", .text).notNull()
                table.column("sealed", .blob).notNull()
                table.primaryKey(["kind", "name"])
            }
            try db.create(table: "history") { table in
                table.autoIncrementedPrimaryKey("sequence")
                table.column("message_id", .text).notNull().unique()
                table.column("sealed", .blob).notNull()
            }
            try db.create(table: "outbox") { table in
                table.primaryKey("client_message_id", .blob)
                table.column("recipient", .text).notNull()
                table.column("envelope", .blob).notNull()
                table.column("created_at", .integer).notNull()
            }
        }
        migrator.registerMigration("v2-received-ids") { db in try createReceivedIDTable(db) }
        migrator.registerMigration("v3-history-tags") { db in try createHistoryRecordTable(db) }
        return migrator
    }

    /// Creates a new store in the home `ownership` holds; fails if one exists there.
    static func create(ownership: HomeOwnership, passphrase: String, settings: [String: String], kdf: PassphraseKDF) throws -> ClientStore {
        let home = ownership.home
        let path = (home as NSString).appendingPathComponent(fileName)
        guard !FileManager.default.fileExists(atPath: path) else { throw ClientError.alreadyInitialized(home) }
        let random = SystemRandomSource()
        let key = StorageKey.generate(random: random)
        let sealedKey = try SealedContainer.seal(key.bytes, passphrase: passphrase, context: StorageKey.containerContext, kdf: kdf, random: random)
        let database = try openDatabase(path: path)
        try database.write { db in
            for (name, value) in settings { try setSetting(db, name, value) }
            try setSetting(db, "storage_key", Hex.encode(sealedKey))
        }
        let store = ClientStore(database: database, storageKey: key, ownership: ownership)
        try store.moveHistoryToTags()
        return store
    }

    /// Opens the store in the home `ownership` holds; the passphrase unseals the storage key.
    static func open(ownership: HomeOwnership, passphrase: String) throws -> ClientStore {
        let home = ownership.home
        let path = (home as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.notInitialized(home) }
        let (database, sealedHex) = try Self.failingAsCorrupted {
            let database = try openDatabase(path: path)
            let sealedHex = try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = 'storage_key'") }
            return (database, sealedHex)
        }
        guard let sealedHex, let sealed = Hex.decode(sealedHex) else { throw ClientError.storeCorrupted }
        let keyBytes = try SealedContainer.open(sealed, passphrase: passphrase, context: StorageKey.containerContext)
        let store = ClientStore(database: database, storageKey: try StorageKey(bytes: keyBytes), ownership: ownership)
        try store.moveReplayWindowsToReceivedIDs()
        try store.moveHistoryToTags()
        return store
    }

    /// Runs `body`, reporting a file that is not a database, or a damaged one, as a corrupted
    /// store (exit 4) rather than as SQLite's own message.
    private static func failingAsCorrupted<Value>(_ body: () throws -> Value) throws -> Value {
        do {
            return try body()
        } catch let error as DatabaseError where [.SQLITE_NOTADB, .SQLITE_CORRUPT].contains(error.resultCode) {
            throw ClientError.storeCorrupted
        }
    }

    private static func openDatabase(path: String) throws -> DatabaseQueue {
        // Owner-only before SQLite opens it: SQLite gives the write-ahead log and shared-memory
        // files the database's mode, and a store made by an older version is tightened here.
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw ClientError.homeUnusable((path as NSString).deletingLastPathComponent, reason: "cannot open \(fileName)") }
        Glibc.close(descriptor)
        for suffix in ["", "-wal", "-shm"] { _ = chmod(path + suffix, 0o600) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let database = try DatabaseQueue(path: path, configuration: configuration)
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        try migrator.migrate(database)
        return database
    }

    private init(database: DatabaseQueue, storageKey: StorageKey, ownership: HomeOwnership) {
        self.database = database
        self.storageKey = storageKey
        self.ownership = ownership
    }

    /// Lets go of the home. The flag is set inside a write, which waits for a write under way
    /// and is seen by every later one (`ownedWrite`): no write reaches the file once another
    /// process may own it. The connection itself stays open until the store is released, as
    /// GRDB allows no use of a closed one, and a late read is harmless.
    func close() {
        database.writeWithoutTransaction { _ in released.withLock { $0 = true } }
        ownership.release()
    }

    /// A write, refused once the store was closed.
    private func ownedWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try database.writeWithoutTransaction { db in
            guard !released.withLock({ $0 }) else { throw ClientError.homeUnusable(ownership.home, reason: "this client was closed") }
            return try body(db)
        }
    }

    // MARK: Settings (not secret)

    func setting(_ name: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = ?", arguments: [name]) }
    }

    func setSetting(_ name: String, _ value: String) throws {
        try ownedWrite { db in try db.inTransaction { try Self.setSetting(db, name, value); return .commit } }
    }

    private static func setSetting(_ db: Database, _ name: String, _ value: String) throws {
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO setting (name, value) VALUES (?, ?)").execute(arguments: [name, value])
    }

    // MARK: Sealed items

    /// The item's plaintext, or nil when absent.
    func item(_ kind: String, _ name: String) throws -> [UInt8]? {
        let key = ItemKey(kind: kind, name: name)
        if let cached = itemCache.withLock({ $0.items[key] }) { return cached }
        let value = try database.read { db in
            try Data.fetchOne(db.cachedStatement(sql: "SELECT sealed FROM item WHERE kind = ? AND name = ?"), arguments: [kind, name])
        }.map { sealed in try storageKey.open(Array(sealed), context: "\(kind)/\(name)") }
        itemCache.withLock { $0.items[key] = .some(value) }
        return value
    }

    /// The names of the items of `kind`, without unsealing them.
    func itemNames(_ kind: String) throws -> [String] {
        try database.read { db in try String.fetchAll(db, sql: "SELECT name FROM item WHERE kind = ?", arguments: [kind]) }
    }

    func items(_ kind: String) throws -> [(name: String, value: [UInt8])] {
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sealed FROM item WHERE kind = ? ORDER BY name", arguments: [kind])
        }
        return try rows.map { row in
            let name: String = row["name"]
            let sealed: Data = row["sealed"]
            return (name, try storageKey.open(Array(sealed), context: "\(kind)/\(name)"))
        }
    }

    /// Writes several items, deletions and outbox changes in one transaction, so that, for
    /// example, a session's new state and the envelope it produced are stored together.
    ///
    /// A durable commit is on disk when this returns (`synchronous = FULL`: the log is synced).
    /// A commit that is not durable survives the process being killed but may be lost with
    /// the machine's power; it becomes durable with the next durable commit or `syncToDisk`,
    /// since both sync the same write-ahead log. Whatever precedes sending ciphertext is
    /// durable (a sending chain rolled back by a power loss would reuse message keys);
    /// received messages are committed without a sync and acknowledged after `syncToDisk`.
    func commit(_ changes: StoreChanges, durable: Bool = true) throws {
        let sealedPuts = try changes.puts.map { put in
            (put.kind, put.name, Data(try storageKey.seal(put.value, context: "\(put.kind)/\(put.name)", random: random)))
        }
        let sealedHistory = try changes.history.map { entry in
            let (tag, context) = historyRow(entry.messageID)
            return (Data(tag), Data(try storageKey.seal(entry.record, context: context, random: random)))
        }
        let receivedTags = changes.received.map { (scope: $0.scope, tag: receivedTag($0.id, scope: $0.scope)) }
        try ownedWrite { db in
            if !durable { try db.cachedStatement(sql: "PRAGMA synchronous = NORMAL").execute() }
            defer { if !durable { try? db.cachedStatement(sql: "PRAGMA synchronous = FULL").execute() } }
            try db.inTransaction {
                try Self.apply(changes, sealedPuts: sealedPuts, sealedHistory: sealedHistory, db)
                try Self.recordReceived(receivedTags, db)
                return .commit
            }
            syncProgress.withLock { progress in
                progress.lastCommit += 1
                if durable { progress.syncedThrough = progress.lastCommit }
            }
        }
        itemCache.withLock { cache in
            for put in changes.puts { cache.items[ItemKey(kind: put.kind, name: put.name)] = .some(put.value) }
            for deletion in changes.deletions { cache.items[ItemKey(kind: deletion.kind, name: deletion.name)] = .some(nil) }
        }
    }

    /// Whether some commit is not yet known to be durable.
    var hasUnsyncedCommits: Bool { syncProgress.withLock { $0.lastCommit > $0.syncedThrough } }

    /// Makes every commit so far durable: one small durable commit syncs the log that holds
    /// them all. Nothing to do when a durable commit came after the last one that was not.
    func syncToDisk() throws {
        guard hasUnsyncedCommits else { return }
        let covered = try ownedWrite { db in
            try Self.setSetting(db, "last_sync", String(Int64(Date().timeIntervalSince1970 * 1000)))
            return syncProgress.withLock { $0.lastCommit }
        }
        syncProgress.withLock { $0.syncedThrough = max($0.syncedThrough, covered) }
    }

    /// Statements are prepared once per connection (`cachedStatement`): a message commits
    /// several, and parsing the SQL each time cost more than running it.
    private static func apply(
        _ changes: StoreChanges, sealedPuts: [(String, String, Data)], sealedHistory: [(Data, Data)], _ db: Database
    ) throws {
        for (kind, name, sealed) in sealedPuts {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO item (kind, name, sealed) VALUES (?, ?, ?)").execute(arguments: [kind, name, sealed])
        }
        for deletion in changes.deletions {
            try db.cachedStatement(sql: "DELETE FROM item WHERE kind = ? AND name = ?").execute(arguments: [deletion.kind, deletion.name])
        }
        for (tag, sealed) in sealedHistory {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO history_record (tag, sealed) VALUES (?, ?)").execute(arguments: [tag, sealed])
        }
        for entry in changes.outboxAdds {
            try db.cachedStatement(
                sql: "INSERT OR REPLACE INTO outbox (client_message_id, recipient, envelope, created_at) VALUES (?, ?, ?, ?)"
            ).execute(arguments: [Data(entry.clientMessageID), entry.recipient, Data(entry.envelope), entry.createdAt])
        }
        for id in changes.outboxRemovals {
            try db.cachedStatement(sql: "DELETE FROM outbox WHERE client_message_id = ?").execute(arguments: [Data(id)])
        }
    }

    /// How many entries the outbox holds, without reading them.
    func outboxCount() throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    func outbox() throws -> [OutboxEntry] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT client_message_id, recipient, envelope, created_at FROM outbox ORDER BY created_at, rowid")
                .map { row in
                    OutboxEntry(
                        clientMessageID: Array(row["client_message_id"] as Data), recipient: row["recipient"],
                        envelope: Array(row["envelope"] as Data), createdAt: row["created_at"]
                    )
                }
        }
    }
}

struct OutboxEntry: Sendable, Hashable {
    let clientMessageID: [UInt8]
    let recipient: String
    let envelope: [UInt8]
    let createdAt: Int64
}

/// A batch of store writes applied in one transaction.
struct StoreChanges {
    var puts: [(kind: String, name: String, value: [UInt8])] = []
    var deletions: [(kind: String, name: String)] = []
    var history: [(messageID: String, record: [UInt8])] = []
    var outboxAdds: [OutboxEntry] = []
    var outboxRemovals: [[UInt8]] = []
    /// Ids to recognise as already received (`ClientStore+ReceivedIDs.swift`).
    var received: [(scope: String, id: [UInt8])] = []

    mutating func put(_ kind: String, _ name: String, _ value: [UInt8]) {
        puts.append((kind, name, value))
    }

    mutating func delete(_ kind: String, _ name: String) {
        deletions.append((kind, name))
    }
}
