import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

/// Three members of one room, each holding its own chain and the others' received chains.
private struct Room {
    let name = "#team"
    var chains: [String: SenderChain] = [:]
    var received: [String: [String: ReceivedSenderChain]] = [:]
    let random = SeededRandomSource(seed: "room")

    init(members: [String]) throws {
        for member in members { try rotate(member, sharingWith: members) }
    }

    static func fingerprint(_ member: String) -> Fingerprint {
        switch member {
        case "alice": TestIdentities.alice.publicIdentity.fingerprint
        case "bob": TestIdentities.bob.publicIdentity.fingerprint
        case "carol": TestIdentities.carol.publicIdentity.fingerprint
        default: TestIdentities.mallory.publicIdentity.fingerprint
        }
    }

    /// A fresh chain for `member`, handed (as through pairwise sessions) only to `recipients`.
    mutating func rotate(_ member: String, sharingWith recipients: [String]) throws {
        let chain = try SenderChain.generate(room: name, owner: Self.fingerprint(member), random: random)
        chains[member] = chain
        let distribution = try SenderKeyDistribution(serialized: chain.distribution.serialized)
        for recipient in recipients where recipient != member {
            received[recipient, default: [:]][member] = try ReceivedSenderChain(distribution, from: Self.fingerprint(member))
        }
    }

    mutating func send(_ member: String, _ text: String) throws -> [UInt8] {
        try chains[member]!.encrypt(.text(text, sentAtMilliseconds: 9, random: random))
    }

    mutating func receive(_ recipient: String, from sender: String, _ bytes: [UInt8]) throws -> String {
        guard var chain = received[recipient]?[sender] else { throw DecryptionError.cannotDecrypt }
        let payload = try chain.decrypt(GroupMessage(serialized: bytes))
        received[recipient]![sender] = chain
        return payload.text
    }
}

@Suite("Sender-key groups")
struct GroupTests {
    @Test("three members converse, each message read by the other two")
    func threeMembers() throws {
        var room = try Room(members: ["alice", "bob", "carol"])
        for round in 0..<5 {
            for sender in ["alice", "bob", "carol"] {
                let message = try room.send(sender, "\(sender) round \(round)")
                for recipient in ["alice", "bob", "carol"] where recipient != sender {
                    #expect(try room.receive(recipient, from: sender, message) == "\(sender) round \(round)")
                }
            }
        }
    }

    @Test("a removed member cannot decrypt messages sent after the remaining members rotate")
    func removedMemberLocksOut() throws {
        var room = try Room(members: ["alice", "bob", "carol"])
        _ = try room.receive("carol", from: "alice", room.send("alice", "before removal"))
        // Carol is removed: Alice and Bob make fresh chains and share them only with each other.
        try room.rotate("alice", sharingWith: ["alice", "bob"])
        try room.rotate("bob", sharingWith: ["alice", "bob"])
        let after = try room.send("alice", "after removal")
        #expect(try room.receive("bob", from: "alice", after) == "after removal")
        #expect(throws: DecryptionError.self) { try room.receive("carol", from: "alice", after) }
        let fromBob = try room.send("bob", "also after")
        #expect(throws: DecryptionError.self) { try room.receive("carol", from: "bob", fromBob) }
    }

    @Test("a joiner cannot decrypt messages sent before it joined")
    func joinerCannotReadHistory() throws {
        var room = try Room(members: ["alice", "bob"])
        let before = try room.send("alice", "history")
        #expect(try room.receive("bob", from: "alice", before) == "history")
        // Carol joins: she receives Alice's chain at its current iteration, which is past `before`.
        let distribution = try SenderKeyDistribution(serialized: room.chains["alice"]!.distribution.serialized)
        room.received["carol", default: [:]]["alice"] = try ReceivedSenderChain(distribution, from: Room.fingerprint("alice"))
        #expect(throws: DecryptionError.cannotDecrypt) { try room.receive("carol", from: "alice", before) }
        #expect(try room.receive("carol", from: "alice", room.send("alice", "welcome")) == "welcome")
    }

    @Test("every single-byte change to a group message is rejected")
    func everyByteFlipRejected() throws {
        var room = try Room(members: ["alice", "bob"])
        let message = try room.send("alice", "group tamper")
        for index in message.indices {
            var altered = message
            altered[index] ^= 0x01
            var copy = room
            #expect(throws: DecryptionError.self, "byte \(index)") { try copy.receive("bob", from: "alice", altered) }
        }
        #expect(try room.receive("bob", from: "alice", message) == "group tamper")
    }

    @Test("a member cannot forge another member's message, even with the chain key")
    func impersonationRefused() throws {
        var room = try Room(members: ["alice", "bob", "mallory"])
        // Mallory knows Alice's chain key (she received it) but not Alice's signing key.
        let aliceChain = room.received["mallory"]!["alice"]!
        var forger = SenderChain(
            room: room.name, owner: Room.fingerprint("alice"), chainID: aliceChain.chainID,
            iteration: aliceChain.iteration, chainKey: aliceChain.chainKey,
            signingKey: try .init(rawRepresentation: room.random.bytes(32))
        )
        let forged = try forger.encrypt(.text("i am alice", sentAtMilliseconds: 0, random: room.random))
        #expect(throws: DecryptionError.cannotDecrypt) { try room.receive("bob", from: "alice", forged) }
    }

    @Test("a replayed group message does not decrypt; out-of-order ones do")
    func replayAndOrder() throws {
        var room = try Room(members: ["alice", "bob"])
        let messages = try (0..<20).map { try room.send("alice", "g\($0)") }
        for index in shuffled(Array(0..<20), random: SeededRandomSource(seed: "group-order")) {
            #expect(try room.receive("bob", from: "alice", messages[index]) == "g\(index)")
        }
        #expect(throws: DecryptionError.cannotDecrypt) { try room.receive("bob", from: "alice", messages[3]) }
    }

    @Test("a group message further ahead than the skip bound fails cleanly")
    func groupSkipBound() throws {
        var room = try Room(members: ["alice", "bob"])
        var last: [UInt8] = []
        for index in 0...Int(SkippedMessageKeys.maxSkipPerChain) + 1 { last = try room.send("alice", "g\(index)") }
        #expect(throws: DecryptionError.tooFarAhead) { try room.receive("bob", from: "alice", last) }
    }

    @Test("sender chains survive storage")
    func chainStorage() throws {
        var room = try Room(members: ["alice", "bob"])
        let skippedMessage = try room.send("alice", "skipped")
        _ = try room.receive("bob", from: "alice", room.send("alice", "read"))
        room.chains["alice"] = try SenderChain(serializedState: room.chains["alice"]!.serializedState())
        room.received["bob"]!["alice"] = try ReceivedSenderChain(serializedState: room.received["bob"]!["alice"]!.serializedState())
        #expect(try room.receive("bob", from: "alice", skippedMessage) == "skipped")
        #expect(try room.receive("bob", from: "alice", room.send("alice", "after restore")) == "after restore")
    }
}
