import CipherClient
import CipherCore
import CipherRelay
import Foundation
import Testing

/// Only the relay names a delivery's sender. A name that no account or room can have
/// (PROTOCOL.md 12.2, 13.1) is a look-alike of a real one: the client refuses it loudly.
@Suite("Sender names from the relay")
struct SenderNameTests {
    @Test("a message the relay says is from alice\\u{200B}, a Cyrillic аlice, 'alice ' or #team\\u{200B} is refused with a warning spelling the name, acknowledged, and pins no contact")
    func lookAlikeSenders() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        try await alice.send("from the real alice", to: "bob")
        let original = try #require(try await relay.store.pending(for: "bob", after: 0, limit: 10).first)
        // A relay that rewrites the sender: the genuine delivery leaves the queue, and copies of
        // its envelope (which bob could decrypt) arrive under look-alike names.
        try await relay.store.acknowledge(recipient: "bob", deliveryIDs: [original.deliveryID])
        let forged = ["alice\u{200B}", "\u{430}lice", "alice ", "#team\u{200B}"]
        for (index, sender) in forged.enumerated() {
            let ticket = try relay.store.enqueue(
                NewEnvelope(sender: sender, recipient: "bob", clientMessageID: [UInt8](repeating: UInt8(index + 1), count: 16),
                            acceptedAtMilliseconds: original.acceptedAtMilliseconds, envelope: original.envelope),
                quota: 100
            )
            try await ticket.durable()
        }

        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait { await $0.warnings.count >= forged.count })
        let shown = await events.messages.map(\.from)
        #expect(shown.isEmpty, "shown as from: \(shown)")
        let warnings = await events.warnings
        for sender in forged {
            let spelled = TerminalText.spelled(sender)
            #expect(warnings.contains { $0.contains(spelled) && $0.contains("not a valid username or room name") }, "\(warnings)")
        }
        #expect(try await bob.contacts().isEmpty)
        // Acknowledged and dropped, as a message that does not decrypt is: not delivered again.
        var queued = try await relay.store.queuedCount(for: "bob")
        for _ in 0..<1_500 where queued > 0 {
            try await Task.sleep(for: .milliseconds(20))
            queued = try await relay.store.queuedCount(for: "bob")
        }
        #expect(queued == 0)
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }
}
