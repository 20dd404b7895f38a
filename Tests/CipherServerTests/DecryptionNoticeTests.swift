@testable import CipherClient
import CipherCore
import CipherRelay
import CipherTesting
import CipherWire
import Foundation
import GRDB
import Testing

/// Decryption-failure notices (PROTOCOL.md 7.3): a receiver that cannot decrypt a contact's
/// messages asks, in a new session, for them again, and both users are told once; a replayed
/// handshake is dropped before it can replace a session (5.3); a handshake that fails pins
/// nothing (12.6).
@Suite("Decryption-failure notices", .serialized)
struct DecryptionNoticeTests {
    /// A hostile relay: the next bundle of `username` it hands out carries a one-time prekey
    /// with the right id and a key of the relay's own. The owner still holds the private key of
    /// that id, so a session started from the bundle fails at the owner's first message.
    static func substituteOneTimePrekey(of username: String, at relay: TestRelay) async throws {
        let bundle = try #require(try await relay.store.takeBundle(username: username))
        var forged = try WireOneTimePrekey(boundedBytes: try #require(bundle.oneTimePrekey), maxSize: 256)
        forged.publicKey = Data(SeededRandomSource(seed: "forged one-time prekey").bytes(32))
        _ = try await relay.store.addOneTimePrekeys(username: username, prekeys: [(forged.id, forged.encodedBytes)])
    }

    /// Deletes, in the closed home `home`, both session slots with `contact` (as a disk restored
    /// from before them would), and with `replayWindowToo` the ids received from them.
    static func forgetSessions(with contact: String, home: String, replayWindowToo: Bool = false) async throws {
        let store = try ClientStore.open(ownership: HomeOwnership.acquire(home: home, command: "test"), passphrase: "test passphrase")
        defer { store.close() }
        var changes = StoreChanges()
        changes.delete(SessionSlot.current.kind, contact)
        changes.delete(SessionSlot.previous.kind, contact)
        try store.commit(changes)
        if replayWindowToo {
            try await store.database.write { db in
                try db.execute(sql: "DELETE FROM received_id WHERE scope = ?", arguments: ["replay/\(contact)"])
            }
        }
    }

    /// Waits until the relay holds nothing for `username`.
    static func waitForEmptyQueue(_ username: String, at relay: TestRelay) async throws {
        for _ in 0..<1_500 {
            if try await relay.store.queuedCount(for: username) == 0 { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the queue of \(username) did not empty")
    }

    @Test("a relay that substitutes a one-time prekey no longer silences a conversation: the messages come again, each once, and each side is warned once")
    func substitutedOneTimePrekey() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await Self.substituteOneTimePrekey(of: "bob", at: relay)
        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await alice.start()
        let sent = (0..<3).map { "message \($0)" }
        // Each accepted by the relay: the sender sees no trouble.
        for text in sent { try await alice.send(text, to: "bob") }

        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        #expect(await bobEvents.wait { await $0.texts == sent })
        #expect(await aliceEvents.wait { await $0.warnings.count == 1 })
        // The conversation goes on both ways in the new session.
        try await alice.send("after", to: "bob")
        try await bob.send("reply", to: "alice")
        #expect(await bobEvents.wait { await $0.texts == sent + ["after"] })
        #expect(await aliceEvents.wait { await $0.texts == ["reply"] })
        try await Task.sleep(for: .milliseconds(300))
        #expect(await bobEvents.texts == sent + ["after"], "each message shown exactly once")
        let bobWarnings = await bobEvents.warnings
        let aliceWarnings = await aliceEvents.warnings
        #expect(bobWarnings == ["a message from alice could not be decrypted; alice was asked to send it again"])
        #expect(aliceWarnings == ["bob could not decrypt messages from you; 3 messages sent again in a new session"])
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("a flood of undecryptable messages yields one notice and one warning on each side, and every message comes again once")
    func noticesAreBounded() async throws {
        let relay = try await TestRelay.start()
        let aliceHome = TestRelay.temporaryHome()
        let sender = try await relay.makeUser("alice", home: aliceHome)
        let bob = try await relay.makeUser("bob")
        try await Self.substituteOneTimePrekey(of: "bob", at: relay)
        try await sender.start(receiving: false)
        let flood = 20
        for index in 0..<flood { try await sender.send("flood \(index)", to: "bob") }
        await sender.close()

        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        try await Self.waitForEmptyQueue("bob", at: relay)
        #expect(await bobEvents.wait { await $0.warnings.count >= 1 })
        try await Task.sleep(for: .milliseconds(300))
        // One notice for twenty failures, and one warning.
        #expect(try await relay.store.queuedCount(for: "alice") == 1)
        #expect(await bobEvents.warnings.count == 1)
        #expect(await bobEvents.texts.isEmpty)

        let alice = try ChatClient.open(home: aliceHome, passphrase: "test passphrase")
        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await alice.start()
        let expected = (0..<flood).map { "flood \($0)" }
        #expect(await bobEvents.wait { await $0.texts == expected })
        try await Self.waitForEmptyQueue("alice", at: relay)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await bobEvents.texts == expected)
        #expect(await aliceEvents.warnings.count == 1)
        #expect(await bobEvents.warnings.count == 1)
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("a sender acts on at most one notice per contact a minute: a second notice within it sends nothing again and warns no more")
    func senderHonoursOneNoticeAMinute() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bobHome = TestRelay.temporaryHome()
        let bob = try await relay.makeUser("bob", home: bobHome)
        try await Self.substituteOneTimePrekey(of: "bob", at: relay)
        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await alice.start()
        try await alice.send("one", to: "bob")
        let firstEvents = EventCollector()
        await firstEvents.follow(bob)
        try await bob.start()
        #expect(await firstEvents.wait { await $0.texts == ["one"] })
        #expect(await aliceEvents.wait { await $0.warnings.count == 1 })
        try await Self.waitForEmptyQueue("alice", at: relay)
        await bob.close()

        // Bob loses his session with alice (as a restored disk would), so her next message
        // fails too: his last message from her decrypted, so he may ask again, and does.
        try await Self.forgetSessions(with: "alice", home: bobHome)
        try await alice.send("two", to: "bob")
        let reopened = try ChatClient.open(home: bobHome, passphrase: "test passphrase")
        let bobEvents = EventCollector()
        await bobEvents.follow(reopened)
        try await reopened.start()
        #expect(await bobEvents.wait { await $0.warnings.count == 1 }, "bob asks for the second message")
        // Alice takes the second notice within the minute: she sends nothing again.
        for _ in 0..<1_500 where try await reopened.store.outboxCount() > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await reopened.store.outboxCount() == 0, "the relay took bob's notice")
        try await Self.waitForEmptyQueue("alice", at: relay)
        try await Self.waitForEmptyQueue("bob", at: relay)
        try await Task.sleep(for: .milliseconds(300))
        let aliceWarnings = await aliceEvents.warnings
        #expect(aliceWarnings.count == 1, "\(aliceWarnings)")
        #expect(try await relay.store.queuedCount(for: "bob") == 0, "nothing was sent again")
        #expect(await bobEvents.texts.isEmpty)
        await alice.stop()
        await reopened.stop()
        await relay.stop()
    }

    @Test("a handshake replayed after its session was replaced and its id left the window is dropped: not shown again, the session kept")
    func replayedHandshake() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bobHome = TestRelay.temporaryHome()
        let bob = try await relay.makeUser("bob", home: bobHome)
        // No one-time prekey left: the handshake can be accepted again as long as bob keeps
        // his signed prekey.
        while try await relay.store.oneTimePrekeyCount(username: "bob") > 0 { _ = try await relay.store.takeBundle(username: "bob") }
        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await alice.start()
        try await alice.send("first", to: "bob")
        let handshake = try #require(try await relay.store.pending(for: "bob", after: 0, limit: 10).first)
        let firstEvents = EventCollector()
        await firstEvents.follow(bob)
        try await bob.start()
        #expect(await firstEvents.wait { await $0.texts == ["first"] })
        // A reply: alice sends ratchet messages from now on, no longer the handshake.
        try await bob.send("hi", to: "alice")
        #expect(await aliceEvents.wait { await $0.texts == ["hi"] })
        await bob.close()

        // What a long conversation does, in short: the session the handshake started has been
        // replaced since (both slots), and 4,096 newer messages pushed its payload id out of
        // the window (PROTOCOL.md 7.2).
        try await Self.forgetSessions(with: "alice", home: bobHome, replayWindowToo: true)

        let reopened = try ChatClient.open(home: bobHome, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(reopened)
        try await reopened.start()
        // A message in the session bob no longer has: he asks for it again in a new one.
        try await alice.send("second", to: "bob")
        #expect(await events.wait { await $0.texts == ["second"] })
        let session = try #require(try await reopened.store.item(SessionSlot.current.kind, "alice"))
        await reopened.close()

        // The relay replays the handshake under a new client message id.
        let replay = try relay.store.enqueue(
            NewEnvelope(sender: "alice", recipient: "bob", clientMessageID: [UInt8](repeating: 0x5a, count: 16),
                        acceptedAtMilliseconds: handshake.acceptedAtMilliseconds, envelope: handshake.envelope),
            quota: 100
        )
        try await replay.durable()
        let again = try ChatClient.open(home: bobHome, passphrase: "test passphrase")
        let lastEvents = EventCollector()
        await lastEvents.follow(again)
        try await again.start()
        try await Self.waitForEmptyQueue("bob", at: relay)
        try await alice.send("third", to: "bob")
        #expect(await lastEvents.wait { await $0.texts.contains("third") })
        #expect(await lastEvents.texts == ["third"], "the replayed handshake is not shown again")
        let after = try #require(try await again.store.item(SessionSlot.current.kind, "alice"))
        #expect(try Session(serializedState: after).baseKey == Session(serializedState: session).baseKey, "the session in use is kept")
        await alice.stop()
        await again.stop()
        await relay.stop()
    }

    @Test("a handshake message that fails to decrypt pins no identity: the contact is pinned from what decrypts or from its bundle")
    func failedHandshakePinsNothing() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        let mallory = try await relay.makeUser("mallory")
        try await mallory.start()
        try await mallory.send("hello", to: "bob")
        let original = try #require(try await relay.store.pending(for: "bob", after: 0, limit: 10).first)
        try await relay.store.acknowledge(recipient: "bob", deliveryIDs: [original.deliveryID])
        // The relay attributes Mallory's handshake to alice, with a byte of its ciphertext
        // changed: it carries Mallory's identity and does not decrypt.
        var tampered = original.envelope
        tampered[tampered.count - 5] ^= 0x01
        let forged = try relay.store.enqueue(
            NewEnvelope(sender: "alice", recipient: "bob", clientMessageID: [UInt8](repeating: 0x11, count: 16),
                        acceptedAtMilliseconds: original.acceptedAtMilliseconds, envelope: tampered),
            quota: 100
        )
        try await forged.durable()

        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        try await Self.waitForEmptyQueue("bob", at: relay)
        #expect(await events.wait { await $0.warnings.count >= 1 })
        try await Task.sleep(for: .milliseconds(300))
        let pinned = try await bob.contacts().filter { $0.username == "alice" }
        #expect(pinned.allSatisfy { $0.fingerprint == alice.fingerprint && !$0.identityChanged }, "alice pinned to \(pinned.map(\.fingerprint))")
        let warnings = await events.warnings
        #expect(!warnings.contains { $0.contains("CHANGED") }, "\(warnings)")
        await mallory.stop()
        await bob.stop()
        await relay.stop()
    }
}
