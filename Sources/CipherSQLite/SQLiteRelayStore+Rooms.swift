import CipherRelay
import Foundation
import GRDB

extension SQLiteRelayStore {
    public func appendRoomStatement(room: String, epoch: UInt64, statement: [UInt8], members: [String]) async throws -> RoomAppendResult {
        try await committing { db in
            // One transaction on the single writer: the epoch check and the insert cannot
            // interleave with another change to the same room.
            let current = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT MAX(epoch) FROM room_statements WHERE room = ?"), arguments: [room]
            ) ?? 0
            guard Int64(sqlite: epoch) == current + 1 else { return .conflict(currentEpoch: UInt64(sqlite: current)) }
            try db.execute(
                sql: "INSERT INTO room_statements (room, epoch, statement) VALUES (?, ?, ?)",
                arguments: [room, Int64(sqlite: epoch), Data(sqlite: statement)]
            )
            try db.execute(sql: "DELETE FROM room_members WHERE room = ?", arguments: [room])
            for member in Set(members) {
                try db.execute(sql: "INSERT INTO room_members (room, username) VALUES (?, ?)", arguments: [room, member])
            }
            return .appended
        }
    }

    public func roomStatements(room: String) async throws -> [[UInt8]] {
        try await pool.read { db in
            try Data.fetchAll(db, sql: "SELECT statement FROM room_statements WHERE room = ? ORDER BY epoch", arguments: [room]).map { [UInt8]($0) }
        }
    }

    public func roomMembers(room: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT username FROM room_members WHERE room = ? ORDER BY username"), arguments: [room]
            )
        }
    }

    public func rooms(of username: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT room FROM room_members WHERE username = ? ORDER BY room", arguments: [username])
        }
    }
}
