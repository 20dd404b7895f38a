@testable import CipherCore
import CipherTesting

/// Alice and Bob with an established session, for tests that start after the handshake.
struct Conversation {
    let alice: TestUser
    let bob: TestUser
    var aliceSession: Session
    var bobSession: Session
    let random: SeededRandomSource

    /// Builds the users, runs the handshake and delivers Alice's first message to Bob.
    init(seed: String, oneTimePrekey: Bool = true) throws {
        random = SeededRandomSource(seed: seed)
        alice = try TestUser(name: "alice", identity: TestIdentities.alice, random: random)
        bob = try TestUser(name: "bob", identity: TestIdentities.bob, random: random)
        aliceSession = try Session.initiate(
            identity: alice.identity, signedPrekey: alice.signedPrekey,
            bundle: bob.bundle(oneTimeIndex: oneTimePrekey ? 0 : nil), random: random
        )
        let first = try aliceSession.encrypt(.text("hello bob", sentAtMilliseconds: 1, random: random))
        guard case .prekey(let prekey) = try SessionEnvelope(serialized: first) else {
            throw HandshakeError.malformed
        }
        let accepted = try Session.accept(
            prekey, identity: bob.identity, signedPrekey: bob.signedPrekey,
            postQuantumPrekey: bob.postQuantumPrekey,
            oneTimePrekey: bob.oneTimePrekey(id: prekey.recipientOneTimePrekeyID), random: random
        )
        bobSession = accepted.session
    }

    mutating func aliceSends(_ text: String) throws -> [UInt8] {
        try aliceSession.encrypt(.text(text, sentAtMilliseconds: 2, random: random))
    }

    mutating func bobSends(_ text: String) throws -> [UInt8] {
        try bobSession.encrypt(.text(text, sentAtMilliseconds: 3, random: random))
    }

    mutating func bobReceives(_ envelope: [UInt8]) throws -> String {
        try bobSession.decrypt(SessionEnvelope(serialized: envelope), random: random).text
    }

    mutating func aliceReceives(_ envelope: [UInt8]) throws -> String {
        try aliceSession.decrypt(SessionEnvelope(serialized: envelope), random: random).text
    }
}

/// A seeded Fisher-Yates shuffle, so delivery orders are reproducible.
func shuffled<T>(_ items: [T], random: SeededRandomSource) -> [T] {
    var items = items
    guard items.count > 1 else { return items }
    for index in stride(from: items.count - 1, to: 0, by: -1) {
        let bytes = random.bytes(4)
        let value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        items.swapAt(index, Int(value % UInt32(index + 1)))
    }
    return items
}
