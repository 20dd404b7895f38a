import CipherCore
import CipherTesting

/// The pairwise session's parsers (PROTOCOL.md 5 and 6): a prekey bundle as the relay hands it
/// out, then a session started with it; a session envelope as a delivery carries it, then
/// received: a prekey message accepted by Bob of PROTOCOL.md 11.3 with his prekeys, and any
/// envelope decrypted by the session Bob has after accepting the vector's handshake. A message
/// that decrypts must not decrypt a second time.
///
/// Control byte: even for a bundle, odd for an envelope.
enum SessionMessagesEntry {
    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let isBundle = input.byte() & 1 == 0
        let body = input.rest
        if isBundle {
            guard let bundle = try? PrekeyBundle(serialized: body) else { return }
            outcome.accepted = true
            initiate(with: bundle, &outcome)
        } else {
            guard let envelope = try? SessionEnvelope(serialized: body) else { return }
            outcome.accepted = true
            receive(envelope, &outcome)
        }
    }

    /// Alice starts a session with a bundle and encrypts one message under it.
    static func initiate(with bundle: PrekeyBundle, _ outcome: inout FuzzOutcome) {
        let fixtures = FuzzFixtures.shared
        let random = SeededRandomSource(seed: "fuzz/initiate")
        guard var session = try? Session.initiate(
            identity: fixtures.alice, signedPrekey: fixtures.aliceSignedPrekey, bundle: bundle, random: random
        ) else { return }
        outcome.completed = (try? session.encrypt(.text("fuzz", sentAtMilliseconds: 1_767_225_600_000, random: random))) != nil
    }

    static func receive(_ envelope: SessionEnvelope, _ outcome: inout FuzzOutcome) {
        let fixtures = FuzzFixtures.shared
        let random = SeededRandomSource(seed: "fuzz/receive")
        if case .prekey(let prekey) = envelope,
           prekey.recipientSignedPrekeyID == fixtures.bobSignedPrekey.publicPrekey.id,
           prekey.recipientPostQuantumPrekeyID == fixtures.bobPostQuantumPrekey.publicPrekey.id {
            let oneTime = prekey.recipientOneTimePrekeyID == nil ? nil : fixtures.bobOneTimePrekey
            let accepted = try? Session.accept(
                prekey, identity: fixtures.bob, signedPrekey: fixtures.bobSignedPrekey,
                postQuantumPrekey: fixtures.bobPostQuantumPrekey, oneTimePrekey: oneTime, random: random
            )
            if accepted != nil { outcome.completed = true }
        }
        var session = fixtures.bobSession
        guard (try? session.decrypt(envelope, random: random)) != nil else { return }
        outcome.completed = true
        outcome.check((try? session.decrypt(envelope, random: random)) == nil, "a session message decrypted twice")
    }
}
