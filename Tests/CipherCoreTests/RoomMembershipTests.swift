import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

/// The room membership state machine (PROTOCOL.md 13.3) and its statements' decoding.
@Suite("Room membership")
struct RoomMembershipTests {
    static let room = "#team"

    static func identity(_ name: String) -> PrivateIdentity {
        switch name {
        case "alice": TestIdentities.alice
        case "bob": TestIdentities.bob
        case "carol": TestIdentities.carol
        default: TestIdentities.mallory
        }
    }

    /// A statement by `author` that follows `membership` (or creates the room when nil).
    static func statement(
        _ action: RoomStatement.Action, by author: String, subject: String? = nil, after membership: RoomMembership?,
        epoch: UInt64? = nil, previousHash: [UInt8]? = nil, signer: String? = nil
    ) throws -> RoomStatement {
        try RoomStatement.sign(
            room: membership?.room ?? room, epoch: epoch ?? (membership.map { $0.epoch + 1 } ?? 1),
            previousHash: previousHash ?? membership?.headHash ?? RoomStatement.genesisPreviousHash, action: action,
            author: author, identity: identity(signer ?? author), subject: subject,
            subjectFingerprint: subject.map { identity($0).publicIdentity.fingerprint }
        )
    }

    /// alice creates #team and adds bob and carol; bob is not an admin.
    static func team() throws -> RoomMembership {
        var membership = try RoomMembership(creation: statement(.create, by: "alice", after: nil))
        membership = try membership.applying(statement(.invite, by: "alice", subject: "bob", after: membership))
        membership = try membership.applying(statement(.invite, by: "alice", subject: "carol", after: membership))
        return membership
    }

    @Test("the creator is the first admin; invites, a grant, a removal and a leave give the expected members")
    func lifecycle() throws {
        var membership = try Self.team()
        #expect(membership.usernames == ["alice", "bob", "carol"])
        #expect(membership.member("alice")?.isAdmin == true)
        #expect(membership.member("bob")?.isAdmin == false)
        #expect(membership.epoch == 3)

        membership = try membership.applying(Self.statement(.grantAdmin, by: "alice", subject: "bob", after: membership))
        #expect(membership.member("bob")?.isAdmin == true)
        membership = try membership.applying(Self.statement(.remove, by: "bob", subject: "carol", after: membership))
        #expect(membership.usernames == ["alice", "bob"])
        membership = try membership.applying(Self.statement(.leave, by: "alice", after: membership))
        #expect(membership.usernames == ["bob"])
        #expect(membership.epoch == 6)
        #expect(membership.member(withFingerprint: TestIdentities.bob.publicIdentity.fingerprint)?.username == "bob")
    }

    @Test("a change by a non-admin is refused")
    func nonAdminRefused() throws {
        let membership = try Self.team()
        #expect(throws: RoomMembershipError.notAdmin) {
            try membership.applying(Self.statement(.invite, by: "bob", subject: "mallory", after: membership))
        }
        #expect(throws: RoomMembershipError.notAdmin) {
            try membership.applying(Self.statement(.remove, by: "bob", subject: "carol", after: membership))
        }
        #expect(throws: RoomMembershipError.notAdmin) {
            try membership.applying(Self.statement(.grantAdmin, by: "bob", subject: "bob", after: membership))
        }
    }

    @Test("a member added by someone outside the room, or under a member's name with another key, is refused")
    func outsidersRefused() throws {
        let membership = try Self.team()
        #expect(throws: RoomMembershipError.authorNotMember) {
            try membership.applying(Self.statement(.invite, by: "mallory", subject: "mallory", after: membership))
        }
        // Signed by mallory's key, claiming to be alice: the room knows alice's key.
        #expect(throws: RoomMembershipError.authorKeyMismatch) {
            try membership.applying(Self.statement(.invite, by: "alice", subject: "mallory", after: membership, signer: "mallory"))
        }
    }

    @Test("the chain is enforced: stale, skipped and forked epochs are refused, and the state is unchanged")
    func chainEnforced() throws {
        let membership = try Self.team()
        let copy = membership
        #expect(throws: RoomMembershipError.staleEpoch) {
            try membership.applying(Self.statement(.invite, by: "alice", subject: "mallory", after: membership, epoch: 3))
        }
        #expect(throws: RoomMembershipError.epochGap) {
            try membership.applying(Self.statement(.invite, by: "alice", subject: "mallory", after: membership, epoch: 5))
        }
        #expect(throws: RoomMembershipError.forked) {
            try membership.applying(Self.statement(
                .invite, by: "alice", subject: "mallory", after: membership, previousHash: [UInt8](repeating: 7, count: 32)
            ))
        }
        #expect(throws: RoomMembershipError.alreadyCreated) {
            try membership.applying(Self.statement(.create, by: "alice", after: membership))
        }
        #expect(throws: RoomMembershipError.wrongRoom) {
            let other = try RoomMembership(creation: RoomStatement.sign(
                room: "#other", epoch: 1, previousHash: RoomStatement.genesisPreviousHash, action: .create,
                author: "alice", identity: TestIdentities.alice
            ))
            try membership.applying(Self.statement(.invite, by: "alice", subject: "mallory", after: other, epoch: 4))
        }
        #expect(membership == copy)
    }

    @Test("membership rules: no double invite, no removing a non-member or oneself, no double grant")
    func actionRules() throws {
        let membership = try Self.team()
        #expect(throws: RoomMembershipError.alreadyMember) {
            try membership.applying(Self.statement(.invite, by: "alice", subject: "bob", after: membership))
        }
        #expect(throws: RoomMembershipError.notMember) {
            try membership.applying(Self.statement(.remove, by: "alice", subject: "mallory", after: membership))
        }
        #expect(throws: RoomMembershipError.removesSelf) {
            try membership.applying(Self.statement(.remove, by: "alice", subject: "alice", after: membership))
        }
        #expect(throws: RoomMembershipError.alreadyAdmin) {
            try membership.applying(Self.statement(.grantAdmin, by: "alice", subject: "alice", after: membership))
        }
        #expect(throws: RoomMembershipError.notCreation) {
            try RoomMembership(creation: Self.statement(.invite, by: "alice", subject: "bob", after: membership))
        }
    }

    @Test("a statement round-trips through its encoding; replaying the chain gives the same membership")
    func roundTripAndReplay() throws {
        var statements = [try Self.statement(.create, by: "alice", after: nil)]
        var membership = try RoomMembership(creation: statements[0])
        for subject in ["bob", "carol"] {
            let next = try Self.statement(.invite, by: "alice", subject: subject, after: membership)
            statements.append(next)
            membership = try membership.applying(next)
        }
        let decoded = try statements.map { try RoomStatement(serialized: $0.serialized) }
        #expect(decoded == statements)
        #expect(try RoomMembership(replaying: decoded) == membership)
        let stored = try JSONDecoder().decode(RoomMembership.self, from: JSONEncoder().encode(membership))
        #expect(stored == membership)
    }

    @Test("the signed bytes are the canonical layout of PROTOCOL.md 13.2")
    func canonicalLayout() throws {
        let statement = try Self.statement(.invite, by: "alice", subject: "bob", after: Self.team())
        var expected = [UInt8]()
        func lp(_ bytes: [UInt8]) { expected += withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes }
        lp(Array("cipherchat/v1/room-statement".utf8))
        lp(Array("#team".utf8))
        expected += withUnsafeBytes(of: UInt64(4).bigEndian, Array.init)
        lp(statement.previousHash)
        expected += [0, 0, 0, 2]
        lp(Array("alice".utf8))
        lp(TestIdentities.alice.publicIdentity.fingerprint.bytes)
        lp(Array("bob".utf8))
        lp(TestIdentities.bob.publicIdentity.fingerprint.bytes)
        #expect(statement.signedBytes == expected)
    }

    @Test("every altered field or signature bit is refused when decoding")
    func tamperRefused() throws {
        let statement = try Self.statement(.invite, by: "alice", subject: "bob", after: Self.team())
        var wire = statement.wire
        wire.subject = "mallory"
        #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(wire: wire) }
        wire = statement.wire
        wire.epoch += 1
        #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(wire: wire) }
        wire = statement.wire
        wire.subjectFingerprint = Data(TestIdentities.mallory.publicIdentity.fingerprint.bytes)
        #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(wire: wire) }
        wire = statement.wire
        wire.authorIdentity = TestIdentities.mallory.publicIdentity.wire
        #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(wire: wire) }
        let signature = Array(statement.wire.signature)
        for index in stride(from: 0, to: signature.count, by: 37) {
            var flipped = signature
            flipped[index] ^= 0x01
            wire = statement.wire
            wire.signature = Data(flipped)
            #expect(throws: RoomMembershipError.badSignature) { try RoomStatement(wire: wire) }
        }
    }

    @Test("hostile encodings are refused as malformed: bad names, sizes, actions, truncations and random bytes")
    func hostileInput() throws {
        let statement = try Self.statement(.invite, by: "alice", subject: "bob", after: Self.team())
        for mutate in [
            { (wire: inout WireRoomStatement) in wire.room = "team" },
            { (wire: inout WireRoomStatement) in wire.room = "#Team" },
            { (wire: inout WireRoomStatement) in wire.room = "#" + String(repeating: "a", count: 33) },
            { (wire: inout WireRoomStatement) in wire.epoch = 0 },
            { (wire: inout WireRoomStatement) in wire.previousHash = Data(count: 31) },
            { (wire: inout WireRoomStatement) in wire.action = .unspecified },
            { (wire: inout WireRoomStatement) in wire.action = .UNRECOGNIZED(9) },
            { (wire: inout WireRoomStatement) in wire.author = "" },
            { (wire: inout WireRoomStatement) in wire.subject = "B0b" },
            { (wire: inout WireRoomStatement) in wire.subjectFingerprint = Data(count: 33) },
            { (wire: inout WireRoomStatement) in wire.clearAuthorIdentity() },
            { (wire: inout WireRoomStatement) in wire.signature = Data(count: 513) },
            { (wire: inout WireRoomStatement) in wire.action = .leave },
        ] {
            var wire = statement.wire
            mutate(&wire)
            #expect(throws: RoomMembershipError.malformed) { try RoomStatement(serialized: wire.encodedBytes) }
        }
        let bytes = statement.serialized
        for length in stride(from: 0, to: bytes.count, by: 97) {
            #expect(throws: RoomMembershipError.self) { try RoomStatement(serialized: bytes.prefix(length)) }
        }
        #expect(throws: RoomMembershipError.malformed) {
            try RoomStatement(serialized: [UInt8](repeating: 0x0a, count: RoomStatement.maxSerializedSize + 1))
        }
        let random = SeededRandomSource(seed: "hostile room statements")
        for size in [1, 7, 64, 500, 3000] {
            #expect(throws: RoomMembershipError.self) { try RoomStatement(serialized: random.bytes(size)) }
        }
        var tooLong = WireRoomChain()
        tooLong.statements = Array(repeating: statement.wire, count: RoomChain.maxStatements + 1)
        #expect(throws: RoomMembershipError.malformed) { try RoomChain.statements(of: tooLong) }
    }

    @Test("room names: # and 1 to 32 of the username alphabet")
    func roomNames() {
        for valid in ["#team", "#a", "#x.y_z-0", "#" + String(repeating: "a", count: 32)] { #expect(RoomName.isValid(valid)) }
        for invalid in ["team", "#", "#Team", "##team", "#te am", "#" + String(repeating: "a", count: 33), "#tëam", ""] {
            #expect(!RoomName.isValid(invalid))
        }
    }
}
