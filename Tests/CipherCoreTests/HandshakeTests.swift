import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

@Suite("Prekey handshake")
struct HandshakeTests {
    @Test("a session starts from a bundle and the first message reads on both sides", arguments: [true, false])
    func sessionStarts(withOneTimePrekey: Bool) throws {
        var conversation = try Conversation(seed: "handshake-\(withOneTimePrekey)", oneTimePrekey: withOneTimePrekey)
        #expect(conversation.aliceSession.isAwaitingReply)
        #expect(conversation.aliceSession.remoteFingerprint == TestIdentities.bob.publicIdentity.fingerprint)
        #expect(conversation.bobSession.remoteFingerprint == TestIdentities.alice.publicIdentity.fingerprint)
        let reply = try conversation.bobSends("hi alice")
        #expect(try conversation.aliceReceives(reply) == "hi alice")
        #expect(!conversation.aliceSession.isAwaitingReply)
        let next = try conversation.aliceSends("after the reply")
        guard case .ratchet = try SessionEnvelope(serialized: next) else {
            Issue.record("after a reply the initiator sends plain ratchet messages")
            return
        }
        #expect(try conversation.bobReceives(next) == "after the reply")
    }

    @Test("every message before the reply carries the prekey header and decrypts in the same session")
    func prekeyMessagesUntilReply() throws {
        var conversation = try Conversation(seed: "until-reply")
        let second = try conversation.aliceSends("second")
        guard case .prekey(let prekey) = try SessionEnvelope(serialized: second) else {
            Issue.record("the second message before a reply must still be a prekey message")
            return
        }
        #expect(prekey.ephemeralKey == conversation.bobSession.baseKey)
        #expect(try conversation.bobReceives(second) == "second")
    }

    @Test("a bundle whose signed prekey signature is bad is refused")
    func badSignedPrekeySignature() throws {
        let random = SeededRandomSource(seed: "bad-signature")
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        var wire = bob.bundle().wire
        wire.signedPrekey.signature[10] ^= 0x01
        #expect(throws: IdentityError.badSignature("signed prekey")) { try PrekeyBundle(wire: wire) }

        var swappedKey = bob.bundle().wire
        swappedKey.signedPrekey.publicKey = Data(random.bytes(32))
        #expect(throws: IdentityError.badSignature("signed prekey")) { try PrekeyBundle(wire: swappedKey) }
    }

    @Test("a bundle whose post-quantum prekey is signed by someone else is refused")
    func foreignPostQuantumPrekey() throws {
        let random = SeededRandomSource(seed: "foreign-pq")
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        let mallory = try TestUser(name: "mallory", identity: TestIdentities.mallory, random: random)
        var wire = bob.bundle().wire
        wire.postQuantumPrekey = mallory.postQuantumPrekey.publicPrekey.wire
        #expect(throws: IdentityError.badSignature("post-quantum prekey")) { try PrekeyBundle(wire: wire) }
    }

    @Test("a post-quantum prekey whose ML-KEM key has a coefficient of 3329 or more is refused, though its owner signed it")
    func invalidXWingKey() throws {
        let random = SeededRandomSource(seed: "invalid-xwing")
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        // The first 12-bit coefficient of the ML-KEM-768 key (its first byte and a half) set to
        // 4095: outside Z_3329, so not the encoding of any key (FIPS 203, 7.2).
        var publicKey = bob.postQuantumPrekey.publicPrekey.publicKey
        publicKey[0] = 0xFF
        publicKey[1] |= 0x0F
        var wire = bob.postQuantumPrekey.publicPrekey.wire
        wire.publicKey = Data(publicKey)
        wire.signature = Data(try TestIdentities.bob.sign(PostQuantumPrekey.statement(id: wire.id, createdAt: wire.createdAt, publicKey: publicKey)))
        #expect(throws: IdentityError.malformed("post-quantum prekey")) {
            try PostQuantumPrekey(wire: wire, owner: TestIdentities.bob.publicIdentity)
        }
        // 3329 (q itself) is refused too, as PROTOCOL.md 5.1's example says.
        publicKey[0] = 0x01
        publicKey[1] = (publicKey[1] & 0xF0) | 0x0D
        wire.publicKey = Data(publicKey)
        wire.signature = Data(try TestIdentities.bob.sign(PostQuantumPrekey.statement(id: wire.id, createdAt: wire.createdAt, publicKey: publicKey)))
        #expect(throws: IdentityError.malformed("post-quantum prekey")) {
            try PostQuantumPrekey(wire: wire, owner: TestIdentities.bob.publicIdentity)
        }
        // The same key with the coefficient at 3328, the largest allowed, is taken.
        publicKey[0] = 0x00
        publicKey[1] = (publicKey[1] & 0xF0) | 0x0D
        wire.publicKey = Data(publicKey)
        wire.signature = Data(try TestIdentities.bob.sign(PostQuantumPrekey.statement(id: wire.id, createdAt: wire.createdAt, publicKey: publicKey)))
        #expect(throws: Never.self) { try PostQuantumPrekey(wire: wire, owner: TestIdentities.bob.publicIdentity) }
    }

    @Test("an identity whose encryption key is not certified by its signing key is refused")
    func uncertifiedEncryptionKey() throws {
        var wire = TestIdentities.bob.publicIdentity.wire
        wire.encryptionKey = TestIdentities.mallory.publicIdentity.wire.encryptionKey
        #expect(throws: IdentityError.badSignature("encryption key")) { try PublicIdentity(wire: wire) }
    }

    @Test("only the addressed recipient can accept a prekey message")
    func wrongRecipientCannotAccept() throws {
        let random = SeededRandomSource(seed: "wrong-recipient")
        let alice = try TestUser(name: "alice", identity: TestIdentities.alice, random: random)
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        let mallory = try TestUser(name: "mallory", identity: TestIdentities.mallory, random: random)
        var session = try Session.initiate(
            identity: alice.identity, signedPrekey: alice.signedPrekey, bundle: bob.bundle(oneTimeIndex: nil), random: random
        )
        guard case .prekey(let prekey) = try SessionEnvelope(serialized: session.encrypt(.text("for bob", sentAtMilliseconds: 0, random: random))) else {
            Issue.record("expected a prekey message")
            return
        }
        // Mallory, holding prekeys with the same ids, still lacks Bob's private keys.
        #expect(throws: HandshakeError.cannotDecrypt) {
            try Session.accept(
                prekey, identity: mallory.identity, signedPrekey: mallory.signedPrekey,
                postQuantumPrekey: mallory.postQuantumPrekey, oneTimePrekey: nil, random: random
            )
        }
        #expect(throws: HandshakeError.prekeyMismatch) {
            try Session.accept(
                prekey, identity: bob.identity, signedPrekey: bob.signedPrekey,
                postQuantumPrekey: bob.postQuantumPrekey, oneTimePrekey: bob.oneTimePrekeys[1], random: random
            )
        }
    }

    @Test("a prekey message whose sender identity was swapped does not decrypt")
    func swappedSenderIdentity() throws {
        let random = SeededRandomSource(seed: "swapped-sender")
        let alice = try TestUser(name: "alice", identity: TestIdentities.alice, random: random)
        let bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        let mallory = try TestUser(name: "mallory", identity: TestIdentities.mallory, random: random)
        var session = try Session.initiate(
            identity: alice.identity, signedPrekey: alice.signedPrekey, bundle: bob.bundle(), random: random
        )
        var wire = try WireSessionEnvelope(serializedBytes: session.encrypt(.text("x", sentAtMilliseconds: 0, random: random)))
        // Mallory claims Alice's message as hers, with her own certified signed prekey.
        wire.prekey.senderIdentity = mallory.identity.publicIdentity.wire
        wire.prekey.senderSignedPrekey = mallory.signedPrekey.publicPrekey.wire
        guard case .prekey(let forged) = try SessionEnvelope(serialized: wire.serializedBytes() as [UInt8]) else {
            Issue.record("expected a prekey message")
            return
        }
        #expect(throws: HandshakeError.cannotDecrypt) {
            try Session.accept(
                forged, identity: bob.identity, signedPrekey: bob.signedPrekey,
                postQuantumPrekey: bob.postQuantumPrekey, oneTimePrekey: bob.oneTimePrekeys[0], random: random
            )
        }
    }

    @Test("a prekey message with another base key does not decrypt in an existing session")
    func foreignBaseKey() throws {
        var first = try Conversation(seed: "base-key-1")
        var other = try Session.initiate(
            identity: first.alice.identity, signedPrekey: first.alice.signedPrekey,
            bundle: first.bob.bundle(oneTimeIndex: 1), random: first.random
        )
        let envelope = try other.encrypt(.text("new session", sentAtMilliseconds: 0, random: first.random))
        #expect(throws: DecryptionError.cannotDecrypt) { try first.bobReceives(envelope) }
    }
}
