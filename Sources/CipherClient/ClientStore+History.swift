import CipherCore
import Foundation
import GRDB

/// The history's rows (PROTOCOL.md 10.2): one sealed record per row, found by a lookup tag of
/// the record's id (4.5), not by the id. A payload's `message_id` is the same on the sender's
/// and the receiver's disk; kept in the clear, it would let two copied stores be matched
/// message by message, which the replay rows' tags (7.2) exist to prevent.
extension ClientStore {
    static let historyTagScope = "history"

    static func createHistoryRecordTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE history_record (
                sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                tag BLOB NOT NULL UNIQUE,
                sealed BLOB NOT NULL
            )
            """)
    }

    /// The tag and the sealing context of the record whose id is `recordID`.
    func historyRow(_ recordID: String) -> (tag: [UInt8], context: String) {
        let tag = storageKey.lookupTag(Array(recordID.utf8), scope: Self.historyTagScope)
        return (tag, Self.historyContext(tag: tag))
    }

    static func historyContext(tag: [UInt8]) -> String { "history/\(Hex.encode(tag))" }

    func history(limit: Int) throws -> [[UInt8]] {
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT tag, sealed FROM history_record ORDER BY sequence DESC LIMIT ?", arguments: [limit])
        }
        return try rows.reversed().map { row in
            let tag = Array(row["tag"] as Data)
            return try storageKey.open(Array(row["sealed"] as Data), context: Self.historyContext(tag: tag))
        }
    }

    /// The records after `sequence`, oldest first, at most `limit`, each with its sequence.
    func history(after sequence: Int64, limit: Int) throws -> [(sequence: Int64, record: [UInt8])] {
        let rows = try database.read { db in
            try Row.fetchAll(
                db, sql: "SELECT sequence, tag, sealed FROM history_record WHERE sequence > ? ORDER BY sequence LIMIT ?",
                arguments: [sequence, limit]
            )
        }
        return try rows.map { row in
            let tag = Array(row["tag"] as Data)
            return (row["sequence"], try storageKey.open(Array(row["sealed"] as Data), context: Self.historyContext(tag: tag)))
        }
    }

    /// The sequence of the newest record, 0 when there is none.
    func latestHistorySequence() throws -> Int64 {
        try database.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(sequence) FROM history_record") ?? 0 }
    }

    /// The history sequence up to which `recv` printed (ChatClient+RecvCursor.swift).
    static let recvCursorSetting = "recv_cursor"

    /// A home opened by a version before the cursor: what its history holds was printed or
    /// shown already, so the cursor starts at its end rather than print it all again.
    func startRecvCursorIfAbsent() throws {
        guard try setting(Self.recvCursorSetting) == nil else { return }
        try setSetting(Self.recvCursorSetting, String(try latestHistorySequence()))
    }

    /// Moves the records of the `history` table that earlier versions kept by id (sealed under
    /// `history/ID`) to `history_record`, in their order, re-sealed under their tags, and drops
    /// the old table, in one transaction. Nothing to do afterwards. The file is then rewritten
    /// (`VACUUM`, and the log folded in), since a dropped table's pages keep their bytes.
    func moveHistoryToTags() throws {
        let exists = try database.read { db in try db.tableExists("history") }
        guard exists else { return }
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT message_id, sealed FROM history ORDER BY sequence")
        }
        let moved = try rows.map { row in
            let id: String = row["message_id"]
            let record = try storageKey.open(Array(row["sealed"] as Data), context: "history/\(id)")
            let (tag, context) = historyRow(id)
            return (Data(tag), Data(try storageKey.seal(record, context: context, random: random)))
        }
        try database.write { db in
            for (tag, sealed) in moved {
                try db.execute(sql: "INSERT OR IGNORE INTO history_record (tag, sealed) VALUES (?, ?)", arguments: [tag, sealed])
            }
            try db.execute(sql: "DROP TABLE history")
        }
        guard !rows.isEmpty else { return }
        try database.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }
}
