import CipherRelay
import Testing

/// The `RoomStore` part of the storage contract (RelayStore.swift), run against every backend
/// (`StoreFactory.all`).
@Suite("Room store contract")
struct RoomStoreContractTests {
    @Test("statements append in epoch order and replace the member list; unknown rooms are empty",
          arguments: StoreFactory.all)
    func appendAndRead(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            #expect(try await store.roomStatements(room: "#team") == [])
            #expect(try await store.roomMembers(room: "#team") == [])
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 1, statement: [1], members: ["alice"]) == .appended)
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 2, statement: [2, 2], members: ["carol", "alice", "bob"]) == .appended)
            #expect(try await store.appendRoomStatement(room: "#other", epoch: 1, statement: [9], members: ["bob"]) == .appended)
            #expect(try await store.roomStatements(room: "#team") == [[1], [2, 2]])
            #expect(try await store.roomMembers(room: "#team") == ["alice", "bob", "carol"])
            #expect(try await store.rooms(of: "bob") == ["#other", "#team"])
            #expect(try await store.rooms(of: "alice") == ["#team"])
            #expect(try await store.rooms(of: "mallory") == [])

            #expect(try await store.appendRoomStatement(room: "#team", epoch: 3, statement: [3], members: ["alice"]) == .appended)
            #expect(try await store.roomMembers(room: "#team") == ["alice"])
            #expect(try await store.rooms(of: "bob") == ["#other"])
        }
    }

    @Test("an append not at the next epoch is a conflict and changes nothing", arguments: StoreFactory.all)
    func conflicts(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 2, statement: [2], members: ["x"]) == .conflict(currentEpoch: 0))
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 1, statement: [1], members: ["alice"]) == .appended)
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 1, statement: [7], members: ["mallory"]) == .conflict(currentEpoch: 1))
            #expect(try await store.appendRoomStatement(room: "#team", epoch: 3, statement: [7], members: ["mallory"]) == .conflict(currentEpoch: 1))
            #expect(try await store.roomStatements(room: "#team") == [[1]])
            #expect(try await store.roomMembers(room: "#team") == ["alice"])
        }
    }

    @Test("concurrent appends at one epoch: exactly one succeeds", arguments: StoreFactory.all)
    func concurrentAppends(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let outcomes = try await withThrowingTaskGroup(of: RoomAppendResult.self) { group in
                for attempt in UInt8(0)..<8 {
                    group.addTask { try await store.appendRoomStatement(room: "#team", epoch: 1, statement: [attempt], members: ["u\(attempt)"]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .appended }.count == 1)
            let stored = try await store.roomStatements(room: "#team")
            #expect(stored.count == 1)
            #expect(try await store.roomMembers(room: "#team") == ["u\(stored[0][0])"])
        }
    }
}
