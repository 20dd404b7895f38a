import CipherTesting
import Foundation
import Testing
@testable import CipherCore

/// The room statement vectors of PROTOCOL.md 11.7, kept in Vectors/protocol-v1.json beside the
/// others: Alice creates `#vectors` and invites Bob. RSA-PSS signatures are randomized, so the
/// statements are checked, not recomputed: they decode, their hashes are the stored ones, and
/// replayed they give the stated membership.
///
/// `CIPHERCHAT_WRITE_ROOM_VECTORS=1 swift test --filter RoomStatementVectorTests` adds them to
/// the file anew, leaving every other vector as it is.
@Suite("Room statement vectors")
struct RoomStatementVectorTests {
    static let writing = ProcessInfo.processInfo.environment["CIPHERCHAT_WRITE_ROOM_VECTORS"] == "1"
    static let room = "#vectors"

    @Test("write the room statement vectors", .enabled(if: writing))
    func writeVectors() throws {
        let create = try RoomStatement.sign(
            room: Self.room, epoch: 1, previousHash: [UInt8](repeating: 0, count: 32), action: .create,
            author: "alice", identity: TestIdentities.alice
        )
        let invite = try RoomStatement.sign(
            room: Self.room, epoch: 2, previousHash: create.hash, action: .invite, author: "alice",
            identity: TestIdentities.alice, subject: "bob", subjectFingerprint: TestIdentities.bob.publicIdentity.fingerprint
        )
        var vectors = try ProtocolVectorTests.load()
        vectors["room_statement_create"] = Hex.encode(create.serialized)
        vectors["room_statement_create_hash"] = Hex.encode(create.hash)
        vectors["room_statement_invite"] = Hex.encode(invite.serialized)
        vectors["room_statement_invite_hash"] = Hex.encode(invite.hash)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(vectors).write(to: ProtocolVectorTests.path)
    }

    @Test("the stored statements verify, hash as stored, and replay to alice (admin) and bob")
    func storedStatements() throws {
        let vectors = try ProtocolVectorTests.load()
        let create = try RoomStatement(serialized: ProtocolVectorTests.hex(vectors, "room_statement_create"))
        let invite = try RoomStatement(serialized: ProtocolVectorTests.hex(vectors, "room_statement_invite"))
        #expect(create.hash == (try ProtocolVectorTests.hex(vectors, "room_statement_create_hash")))
        #expect(invite.hash == (try ProtocolVectorTests.hex(vectors, "room_statement_invite_hash")))
        #expect(invite.previousHash == create.hash)
        let membership = try RoomMembership(replaying: [create, invite])
        #expect(membership.epoch == 2)
        #expect(membership.headHash == invite.hash)
        #expect(membership.members == [
            RoomMember(username: "alice", fingerprint: TestIdentities.alice.publicIdentity.fingerprint, isAdmin: true),
            RoomMember(username: "bob", fingerprint: TestIdentities.bob.publicIdentity.fingerprint, isAdmin: false),
        ])
        // The same statement naming another subject no longer verifies.
        var altered = try ProtocolVectorTests.hex(vectors, "room_statement_invite")
        let subject = Array("bob".utf8)
        let at = try #require((0...(altered.count - subject.count)).first { Array(altered[$0..<($0 + subject.count)]) == subject })
        altered[at + 2] = UInt8(ascii: "p")
        #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(serialized: altered) }
    }
}
