import CipherCore

/// Double Ratchet messages of a 200-byte text, once the session is established. One way, every
/// message advances only the symmetric chains; ping-pong, every message changes direction, so
/// each receipt also performs a DH ratchet step (two X25519 agreements and a key generation).
struct RatchetFigures: Codable, Sendable {
    var payloadBytes: Int
    var envelopeBytes: Int
    /// Payload made (with a fresh random message id) and `Session.encrypt`.
    var oneWayEncryptMedianMicroseconds: Double
    /// `SessionEnvelope(serialized:)` and `Session.decrypt`.
    var oneWayDecryptMedianMicroseconds: Double
    var oneWayMedianMicroseconds: Double
    /// Encrypt plus decrypt per message, the direction turning on every message.
    var pingPongMedianMicroseconds: Double
    var messagesPerSample: Int
    var samples: Int
}

enum RatchetBench {
    static let payloadBytes = 200
    static let messagesPerSample = 256

    static func run(parties: BenchParties, limits: RunLimits) throws -> RatchetFigures {
        var (alice, bob) = try establishedPair(parties: parties)
        var encryptSamples = SampleSet()
        var decryptSamples = SampleSet()
        var oneWay = SampleSet()
        var envelopeBytes = 0
        var envelopes: [[UInt8]] = []
        envelopes.reserveCapacity(messagesPerSample)
        try limits.run {
            envelopes.removeAll(keepingCapacity: true)
            let (_, encryptTime) = try timeOnce {
                for _ in 0..<messagesPerSample {
                    envelopes.append(try alice.encrypt(parties.textPayload(size: payloadBytes)))
                }
            }
            let (last, decryptTime) = try timeOnce {
                var last: Payload?
                for envelope in envelopes {
                    last = try bob.decrypt(try SessionEnvelope(serialized: envelope), random: parties.random)
                }
                return last
            }
            guard last?.content.count == payloadBytes else { throw BenchFailure(description: "a ratchet message came out wrong") }
            envelopeBytes = envelopes[0].count
            encryptSamples.append(encryptTime, operations: messagesPerSample)
            decryptSamples.append(decryptTime, operations: messagesPerSample)
            oneWay.append(encryptTime + decryptTime, operations: messagesPerSample)
        }

        var pingPong = SampleSet()
        try limits.run {
            let (_, elapsed) = try timeOnce {
                for index in 0..<messagesPerSample {
                    if index % 2 == 0 {
                        try send(parties: parties, from: &alice, to: &bob)
                    } else {
                        try send(parties: parties, from: &bob, to: &alice)
                    }
                }
            }
            pingPong.append(elapsed, operations: messagesPerSample)
        }

        return RatchetFigures(
            payloadBytes: payloadBytes, envelopeBytes: envelopeBytes,
            oneWayEncryptMedianMicroseconds: encryptSamples.median * 1e6,
            oneWayDecryptMedianMicroseconds: decryptSamples.median * 1e6,
            oneWayMedianMicroseconds: oneWay.median * 1e6,
            pingPongMedianMicroseconds: pingPong.median * 1e6,
            messagesPerSample: messagesPerSample, samples: oneWay.count
        )
    }

    /// A session after the handshake and Bob's first reply, so that Alice no longer repeats the
    /// prekey header and both sides send plain ratchet envelopes.
    private static func establishedPair(parties: BenchParties) throws -> (alice: Session, bob: Session) {
        var alice = try Session.initiate(
            identity: parties.alice, signedPrekey: parties.aliceSignedPrekey, bundle: parties.bobBundle, random: parties.random
        )
        var bob = try HandshakeBench.acceptSession(
            parties: parties, envelope: try alice.encrypt(parties.textPayload(size: payloadBytes))
        ).session
        try send(parties: parties, from: &bob, to: &alice)
        guard !alice.isAwaitingReply else { throw BenchFailure(description: "Alice still sends prekey messages") }
        return (alice, bob)
    }

    private static func send(parties: BenchParties, from sender: inout Session, to receiver: inout Session) throws {
        let envelope = try sender.encrypt(parties.textPayload(size: payloadBytes))
        blackHole(try receiver.decrypt(try SessionEnvelope(serialized: envelope), random: parties.random))
    }
}
