import CipherCore
import Foundation
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
    private let random = SystemRandomSource()
    /// Items already read or written, unsealed: a message would otherwise read and unseal
    /// its session, contact and windows from the file each time. Every write goes through
    /// `commit`, which updates it; writes by another process are noticed by
    /// `forgetItemsIfChangedElsewhere`.
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
        /// SQLite's `data_version` when the cache was last checked: it changes when another
        /// connection commits.
        var dataVersion: Int?
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
        return migrator
    }

    /// Creates a new store; fails if one exists in `home`.
    static func create(home: String, passphrase: String, settings: [String: String], kdf: PassphraseKDF) throws -> ClientStore {
        let path = (home as NSString).appendingPathComponent(fileName)
        guard !FileManager.default.fileExists(atPath: path) else { throw ClientError.alreadyInitialized(home) }
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let random = SystemRandomSource()
        let key = StorageKey.generate(random: random)
        let sealedKey = try SealedContainer.seal(key.bytes, passphrase: passphrase, context: StorageKey.containerContext, kdf: kdf, random: random)
        let database = try openDatabase(path: path)
        try database.write { db in
            for (name, value) in settings { try setSetting(db, name, value) }
            try setSetting(db, "storage_key", Hex.encode(sealedKey))
        }
        _ = try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        return ClientStore(database: database, storageKey: key)
    }

    /// Opens the store in `home`; the passphrase unseals the storage key.
    static func open(home: String, passphrase: String) throws -> ClientStore {
        let path = (home as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { throw ClientError.notInitialized(home) }
        let database = try openDatabase(path: path)
        guard let sealedHex = try database.read({ db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = 'storage_key'") }),
              let sealed = Hex.decode(sealedHex) else {
            throw ClientError.storeCorrupted
        }
        let keyBytes = try SealedContainer.open(sealed, passphrase: passphrase, context: StorageKey.containerContext)
        let store = ClientStore(database: database, storageKey: try StorageKey(bytes: keyBytes))
        try store.moveReplayWindowsToReceivedIDs()
        return store
    }

    private static func openDatabase(path: String) throws -> DatabaseQueue {
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

    private init(database: DatabaseQueue, storageKey: StorageKey) {
        self.database = database
        self.storageKey = storageKey
    }

    // MARK: Settings (not secret)

    func setting(_ name: String) throws -> String? {
        try database.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE name = ?", arguments: [name]) }
    }

    func setSetting(_ name: String, _ value: String) throws {
        try database.write { db in try Self.setSetting(db, name, value) }
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

    /// Empties the item cache if another process committed to the file since the last check
    /// (a `cipherchat verify` in another terminal while `chat` runs, say). One cheap query.
    func forgetItemsIfChangedElsewhere() throws {
        let version = try database.read { db in try Int.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) }
        itemCache.withLock { cache in
            if cache.dataVersion != version {
                cache.items.removeAll()
                cache.dataVersion = version
            }
        }
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
            (entry.messageID, Data(try storageKey.seal(entry.record, context: "history/\(entry.messageID)", random: random)))
        }
        let receivedTags = changes.received.map { (scope: $0.scope, tag: receivedTag($0.id, scope: $0.scope)) }
        try database.writeWithoutTransaction { db in
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
        let covered = try database.write { db in
            try Self.setSetting(db, "last_sync", String(Int64(Date().timeIntervalSince1970 * 1000)))
            return syncProgress.withLock { $0.lastCommit }
        }
        syncProgress.withLock { $0.syncedThrough = max($0.syncedThrough, covered) }
    }

    /// Statements are prepared once per connection (`cachedStatement`): a message commits
    /// several, and parsing the SQL each time cost more than running it.
    private static func apply(
        _ changes: StoreChanges, sealedPuts: [(String, String, Data)], sealedHistory: [(String, Data)], _ db: Database
    ) throws {
        for (kind, name, sealed) in sealedPuts {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO item (kind, name, sealed) VALUES (?, ?, ?)").execute(arguments: [kind, name, sealed])
        }
        for deletion in changes.deletions {
            try db.cachedStatement(sql: "DELETE FROM item WHERE kind = ? AND name = ?").execute(arguments: [deletion.kind, deletion.name])
        }
        for (messageID, sealed) in sealedHistory {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO history (message_id, sealed) VALUES (?, ?)").execute(arguments: [messageID, sealed])
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

    func history(limit: Int) throws -> [[UInt8]] {
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT message_id, sealed FROM history ORDER BY sequence DESC LIMIT ?", arguments: [limit])
        }
        return try rows.reversed().map { row in
            let id: String = row["message_id"]
            return try storageKey.open(Array(row["sealed"] as Data), context: "history/\(id)")
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
