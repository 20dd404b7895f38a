import CipherClient
import CipherCore
import CipherRelay
import Foundation
import Testing

/// A transition that picks a message key runs without a suspension point between reading the
/// session and committing it (PROTOCOL.md 12.6): whatever else the client does meanwhile, no two
/// envelopes to one contact are encrypted at the same ratchet position.
@Suite("One message key per envelope inside one client", .serialized)
struct SendingAtomicityTests {
    @Test("messages sent while a room key waits on bundle fetches never reuse a session's message key")
    func sendsDuringKeyDistribution() async throws {
        let relay = try await TestRelay.start()
        let aliceHome = TestRelay.temporaryHome()
        let alice = try await relay.makeUser("alice", home: aliceHome)
        let bob = try await relay.makeUser("bob")
        let carol = try await relay.makeUser("carol")
        // Members bob adds while alice is away: alice has no session with any of them yet, so
        // the key she distributes on catching up waits on a bundle fetch for each, after
        // encrypting for bob, who comes first in the room.
        let newcomers = (1...8).map { String(format: "member%02d", $0) }
        for name in newcomers { _ = try await relay.makeUser(name) }

        try await alice.start()
        try await bob.start()
        try await carol.start()
        try await alice.createRoom("#team")
        try await alice.invite("bob", to: "#team")
        try await alice.invite("carol", to: "#team")
        try await alice.grantAdmin("bob", in: "#team")
        await alice.close()
        for name in newcomers { try await bob.invite(name, to: "#team") }
        // A removal makes alice replace her chain and hand it to every remaining member.
        try await bob.remove("carol", from: "#team")
        await bob.stop()
        await carol.stop()

        let returning = try ChatClient.open(home: aliceHome, passphrase: "test passphrase")
        try await returning.start(receiving: false)
        let catchUp = Task { try await returning.members(of: "#team") }
        for index in 0..<30 { try await returning.send("message \(index)", to: "bob") }
        let membership = try await catchUp.value
        #expect(membership.usernames.count == 2 + newcomers.count)

        let positions = try await ratchetPositions(of: relay.store.pending(for: "bob", after: 0, limit: 10_000), from: "alice")
        #expect(positions.count >= 30)
        #expect(Set(positions).count == positions.count, "two envelopes to bob share a ratchet key and message number")
        await returning.stop()
        await relay.stop()
    }

    private struct RatchetPosition: Hashable {
        let ratchetKey: [UInt8]
        let messageNumber: UInt32
    }

    /// Where in the sender's ratchet each queued envelope was encrypted: its ratchet public key
    /// and message number, as the relay stores them in the clear header.
    private func ratchetPositions(of queued: [QueuedEnvelope], from sender: String) throws -> [RatchetPosition] {
        try queued.filter { $0.sender == sender }.map { envelope in
            let message: RatchetMessage = switch try SessionEnvelope(serialized: envelope.envelope) {
            case .prekey(let prekey): prekey.message
            case .ratchet(let ratchet): ratchet
            }
            return RatchetPosition(ratchetKey: message.ratchetKey, messageNumber: message.messageNumber)
        }
    }
}
