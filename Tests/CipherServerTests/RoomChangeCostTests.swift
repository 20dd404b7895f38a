import CipherClient
import CipherCore
import CipherRelay
@testable import CipherSQLite
import CipherWire
import Foundation
import GRDB
import Testing

/// What a `RoomChange` costs the relay (PROTOCOL.md 13.4): the checks of its own statement, not
/// of the room's stored log. The stored log is made to fail its checks here, so that a relay
/// that checks it again is seen to.
@Suite("The cost of a room change", .serialized)
struct RoomChangeCostTests {
    static let room = "#big"

    /// alice's room, with bob invited and removed in turn, `statements` in all, made through
    /// the relay.
    struct BigRoom {
        let relay: TestRelay
        let alice: ChatClient
        let bob: ChatClient
        let mallory: ChatClient
        let head: RoomStatement

        static func make(statements: Int) async throws -> BigRoom {
            let relay = try await TestRelay.start()
            let alice = try await relay.makeUser("alice")
            let bob = try await relay.makeUser("bob")
            let mallory = try await relay.makeUser("mallory")
            let link = try await BlobProtocolTests.login(alice, to: relay)
            var head = try RoomStatement.sign(
                room: room, epoch: 1, previousHash: RoomStatement.genesisPreviousHash, action: .create, author: "alice", identity: alice.identity
            )
            _ = try await link.request(RoomChangeCostTests.change(head))
            for epoch in 2...UInt64(statements) {
                head = try RoomStatement.sign(
                    room: room, epoch: epoch, previousHash: head.hash, action: epoch % 2 == 0 ? .invite : .remove,
                    author: "alice", identity: alice.identity, subject: "bob", subjectFingerprint: bob.fingerprint
                )
                _ = try await link.request(RoomChangeCostTests.change(head))
            }
            await link.close()
            return BigRoom(relay: relay, alice: alice, bob: bob, mallory: mallory, head: head)
        }

        /// Flips a byte of the signature of the statement `relay` stores at `epoch`: checking it
        /// fails.
        static func spoilStoredStatement(epoch: Int, on relay: TestRelay) async throws {
            try await relay.store.pool.write { db in
                guard let bytes = try Data.fetchOne(
                    db, sql: "SELECT statement FROM room_statements WHERE room = ? AND epoch = ?", arguments: [room, epoch]
                ) else { throw CancellationError() }
                var wire = try WireRoomStatement(serializedBytes: bytes)
                wire.signature[wire.signature.startIndex] ^= 0x01
                try db.execute(
                    sql: "UPDATE room_statements SET statement = ? WHERE room = ? AND epoch = ?",
                    arguments: [Data(wire.encodedBytes), room, epoch]
                )
            }
        }

        /// The next statement after `head`, by `author`: bob invited or removed, as the room
        /// was made.
        func next(author: ChatClient, epoch: UInt64? = nil) throws -> RoomStatement {
            let epoch = epoch ?? head.epoch + 1
            return try RoomStatement.sign(
                room: room, epoch: epoch, previousHash: head.hash, action: epoch % 2 == 0 ? .invite : .remove, author: author.username,
                identity: author.identity, subject: "bob", subjectFingerprint: bob.fingerprint
            )
        }
    }

    static func change(_ statement: RoomStatement) -> WireClientFrame.OneOf_Body {
        var change = WireRoomChange()
        change.statement = statement.wire
        return .roomChange(change)
    }

    static func refusal(_ statement: RoomStatement, from client: ChatClient, on relay: TestRelay) async throws -> RelayError? {
        let link = try await BlobProtocolTests.login(client, to: relay)
        var refusal: RelayError?
        do {
            _ = try await link.request(change(statement))
        } catch let error as RelayError {
            refusal = error
        }
        await link.close()
        return refusal
    }

    @Test("a member's change is checked alone: the relay does not check the stored log again")
    func onlyTheNewStatementIsChecked() async throws {
        let big = try await BigRoom.make(statements: 40)
        try await BigRoom.spoilStoredStatement(epoch: 2, on: big.relay)
        let statement = try big.next(author: big.alice)
        let refusal = try await Self.refusal(statement, from: big.alice, on: big.relay)
        #expect(refusal == nil, "\(String(describing: refusal))")
        #expect(try await big.relay.store.roomMembers(room: Self.room) == ["alice"])
        await big.relay.stop()
    }

    @Test("a non-member's change, a stale one and one past the next epoch are refused before any stored statement is checked")
    func refusedBeforeChecking() async throws {
        let big = try await BigRoom.make(statements: 40)
        // A relay that has not checked the room yet, as after a restart.
        let relay = try await big.relay.restarted()
        try await BigRoom.spoilStoredStatement(epoch: 2, on: relay)

        let intruder = try big.next(author: big.mallory)
        let refused = try #require(try await Self.refusal(intruder, from: big.mallory, on: relay))
        #expect(refused.code == .membershipRefused)
        #expect(refused.message.contains("not a member"), "\(refused)")
        for epoch in [big.head.epoch, big.head.epoch + 2] {
            let misplaced = try big.next(author: big.alice, epoch: epoch)
            #expect(try await Self.refusal(misplaced, from: big.alice, on: relay)?.code == .membershipConflict)
        }
        await relay.stop()
    }

    @Test("checking a room's stored log is charged to the connection that needs it: a token per 8 statements")
    func storedLogCharged() async throws {
        let big = try await BigRoom.make(statements: 40)
        let directory = big.relay.directory
        let port = big.relay.port
        await big.relay.stop(keepingData: true)
        // Three tokens and no refill: the change's own token, and two of the five that its
        // room's 40 unchecked statements cost.
        let relay = try await TestRelay.start(directory: directory, port: port) { configuration in
            configuration.messageBurst = 3
            configuration.messagesPerSecond = 0.001
        }
        let statement = try big.next(author: big.alice)
        let refused = try await Self.refusal(statement, from: big.alice, on: relay)
        #expect(refused?.code == .rateLimited, "\(String(describing: refused))")
        #expect(try await relay.store.roomStatements(room: Self.room).count == 40)
        await relay.stop()
    }
}
