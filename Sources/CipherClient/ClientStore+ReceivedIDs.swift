import CipherCore
import Foundation
import GRDB

/// Duplicate suppression (PROTOCOL.md 7.2) as rows: one small row per received id, found by an
/// index, instead of a sealed window of up to 4096 ids that every message read, rewrote and
/// resealed whole (128 KiB written per message once a contact's windows were full).
///
/// A row keeps a keyed tag of the id (`StorageKey.lookupTag`), not the id: the relay sees
/// client message ids, and a copy of the file must not tell which of its envelopes arrived.
/// A scope names one window: `KIND/NAME`, as the sealed windows were named (`seen/bob`,
/// `replay/bob`, `seen/#team`, `room-replay/...`).
extension ClientStore {
    /// Ids kept per scope at least; a scope is cut back to this many now and then (below).
    static let receivedIDsPerScope = ReplayWindow.defaultCapacity

    static func createReceivedIDTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE received_id (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                scope TEXT NOT NULL,
                tag BLOB NOT NULL,
                UNIQUE (scope, tag)
            );
            CREATE INDEX received_id_by_scope ON received_id (scope, sequence);
            """)
    }

    func receivedTag(_ id: [UInt8], scope: String) -> [UInt8] {
        storageKey.lookupTag(id, scope: scope)
    }

    /// Whether `id` was recorded in `scope` (by a committed `StoreChanges.recordReceived`).
    func wasReceived(_ id: [UInt8], in scope: String) throws -> Bool {
        let tag = Data(receivedTag(id, scope: scope))
        return try database.read { db in
            try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM received_id WHERE scope = ? AND tag = ?"), arguments: [scope, tag]
            ) ?? false
        }
    }

    /// Inserts the tags of one commit. A scope is cut back to its newest
    /// `receivedIDsPerScope` rows when a new tag's first byte is zero: once per 256 insertions
    /// on average, at random rather than on a schedule two scopes could share, so that no
    /// message pays for walking a full window.
    static func recordReceived(_ tags: [(scope: String, tag: [UInt8])], _ db: Database) throws {
        for (scope, tag) in tags {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO received_id (scope, tag) VALUES (?, ?)")
                .execute(arguments: [scope, Data(tag)])
            if tag.first == 0 { try pruneReceived(scope, db) }
        }
    }

    static func pruneReceived(_ scope: String, _ db: Database) throws {
        try db.cachedStatement(sql: """
            DELETE FROM received_id WHERE scope = ?1 AND sequence <= (
                SELECT sequence FROM received_id WHERE scope = ?1 ORDER BY sequence DESC LIMIT 1 OFFSET ?2
            )
            """).execute(arguments: [scope, receivedIDsPerScope])
    }

    /// Moves the sealed windows of a store written before the table existed into it, oldest
    /// id first, and deletes them, in one transaction. Nothing to do afterwards.
    func moveReplayWindowsToReceivedIDs() throws {
        var changes = StoreChanges()
        for kind in ["seen", "replay", "room-replay"] {
            for (name, value) in try items(kind) {
                let window = try ReplayWindow(serialized: value)
                for id in window.messageIDs { changes.recordReceived(id, in: "\(kind)/\(name)") }
                changes.delete(kind, name)
            }
        }
        guard !changes.received.isEmpty || !changes.deletions.isEmpty else { return }
        try commit(changes)
    }
}

extension StoreChanges {
    /// Records `id` as received in `scope`, with the rest of the commit.
    mutating func recordReceived(_ id: [UInt8], in scope: String) {
        received.append((scope, id))
    }
}
