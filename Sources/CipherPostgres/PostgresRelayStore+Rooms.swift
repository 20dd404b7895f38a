import CipherRelay
import NIOCore
import PostgresNIO

extension PostgresRelayStore {
    /// One call of `cipherchat_append_room_statement`: the epoch check, the insert and the new
    /// member list commit together, and two instances cannot append at one epoch.
    public func appendRoomStatement(room: String, epoch: UInt64, statement: [UInt8], members: [String]) async throws -> RoomAppendResult {
        return try await bounded { [self] in
            let rows = try await client.query("""
                SELECT cipherchat_append_room_statement(\(room), \(Int64(clamping: epoch)), \(ByteBuffer(bytes: statement)), \(members)::text[])
                """, logger: logger)
            for try await current in rows.decode(Int64.self) {
                return current < 0 ? .appended : .conflict(currentEpoch: UInt64(clamping: current))
            }
            throw PostgresRelayStoreError.unexpectedResult
        }
    }

    public func roomStatements(room: String) async throws -> [[UInt8]] {
        return try await bounded { [self] in
            let rows = try await client.query(
                "SELECT statement FROM room_statements WHERE room = \(room) ORDER BY epoch", logger: logger
            )
            var statements: [[UInt8]] = []
            for try await statement in rows.decode(ByteBuffer.self) { statements.append(Array(statement.readableBytesView)) }
            return statements
        }
    }

    public func roomMembers(room: String) async throws -> [String] {
        return try await bounded { [self] in
            let rows = try await client.query(
                "SELECT username FROM room_members WHERE room = \(room) ORDER BY username COLLATE \"C\"", logger: logger
            )
            var members: [String] = []
            for try await member in rows.decode(String.self) { members.append(member) }
            return members
        }
    }

    public func rooms(of username: String) async throws -> [String] {
        return try await bounded { [self] in
            let rows = try await client.query(
                "SELECT room FROM room_members WHERE username = \(username) ORDER BY room COLLATE \"C\"", logger: logger
            )
            var rooms: [String] = []
            for try await room in rows.decode(String.self) { rooms.append(room) }
            return rooms
        }
    }
}
