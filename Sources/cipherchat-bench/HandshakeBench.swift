import CipherCore

/// The asynchronous prekey handshake, each side timed on its own: what Alice spends to send her
/// first message to Bob, and what Bob spends to accept it and read that message.
struct HandshakeFigures: Codable, Sendable {
    /// `Session.initiate` plus the first `Session.encrypt`.
    var initiatorMedianMilliseconds: Double
    /// `SessionEnvelope(serialized:)` (which checks Alice's identity and signed prekey) plus
    /// `Session.accept` (which decrypts the first message).
    var responderMedianMilliseconds: Double
    /// Median over handshakes of initiator plus responder time.
    var totalMedianMilliseconds: Double
    var totalP90Milliseconds: Double
    /// Not in the total: `PrekeyBundle(serialized:)`, the three signature checks Alice makes
    /// on a bundle fetched from the directory before she initiates.
    var bundleCheckMedianMilliseconds: Double
    /// The size of the first message's envelope for a 200-byte text.
    var prekeyEnvelopeBytes: Int
    var samples: Int
}

enum HandshakeBench {
    static func run(parties: BenchParties, limits: RunLimits) throws -> HandshakeFigures {
        let bundle = parties.bobBundle
        let bundleBytes = bundle.serialized
        var initiator = SampleSet()
        var responder = SampleSet()
        var total = SampleSet()
        var bundleCheck = SampleSet()
        var envelopeBytes = 0
        try limits.run {
            let payload = parties.textPayload(size: 200)
            let (checked, checkTime) = try timeOnce { try PrekeyBundle(serialized: bundleBytes) }
            blackHole(checked)
            let (envelope, initiatorTime) = try timeOnce { try initiate(parties: parties, bundle: bundle, payload: payload) }
            let (received, responderTime) = try timeOnce { try accept(parties: parties, envelope: envelope) }
            guard received == payload else { throw BenchFailure(description: "the handshake delivered a different payload") }
            envelopeBytes = envelope.count
            bundleCheck.append(checkTime)
            initiator.append(initiatorTime)
            responder.append(responderTime)
            total.append(initiatorTime + responderTime)
        }
        return HandshakeFigures(
            initiatorMedianMilliseconds: initiator.median * 1e3,
            responderMedianMilliseconds: responder.median * 1e3,
            totalMedianMilliseconds: total.median * 1e3,
            totalP90Milliseconds: total.percentile(0.9) * 1e3,
            bundleCheckMedianMilliseconds: bundleCheck.median * 1e3,
            prekeyEnvelopeBytes: envelopeBytes,
            samples: total.count
        )
    }

    /// Alice's side: a new session and its first envelope.
    static func initiate(parties: BenchParties, bundle: PrekeyBundle, payload: Payload) throws -> [UInt8] {
        var session = try Session.initiate(
            identity: parties.alice, signedPrekey: parties.aliceSignedPrekey, bundle: bundle, random: parties.random
        )
        return try session.encrypt(payload)
    }

    /// Bob's side: parse the envelope, accept the session, read the first payload.
    static func accept(parties: BenchParties, envelope bytes: [UInt8]) throws -> Payload {
        try acceptSession(parties: parties, envelope: bytes).payload
    }

    static func acceptSession(parties: BenchParties, envelope bytes: [UInt8]) throws -> (session: Session, payload: Payload) {
        guard case .prekey(let message) = try SessionEnvelope(serialized: bytes) else {
            throw BenchFailure(description: "the first envelope is not a prekey message")
        }
        return try Session.accept(
            message, identity: parties.bob, signedPrekey: parties.bobSignedPrekey,
            postQuantumPrekey: parties.bobPostQuantumPrekey, oneTimePrekey: parties.bobOneTimePrekey,
            random: parties.random
        )
    }
}
