import CipherCore
import CipherTesting
import CipherWire
import SwiftProtobuf
import Testing

/// Hostile input as part of the normal test run: every decoder of bytes that come from the
/// network or the disk is fed nothing, random garbage, every truncation of a valid encoding, an
/// input over its size limit, and bit flips of a valid encoding. Each must answer with its own
/// error type (the exact case where the type has one for "not well-formed"), never crash, and
/// never let an altered message through.
@Suite("Malformed input")
struct MalformedInputTests {
    /// Without this, every rejection below could pass by rejecting everything.
    @Test("each valid encoding decodes, also from a slice that does not start at index 0", arguments: UntrustedInputDecoder.allCases)
    func validEncodingDecodes(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        let error = decoder.error(decoding: valid[...])
        #expect(error == nil, "valid \(decoder) refused: \(String(describing: error))")

        let framed = [0xAA] + valid + [0xBB]
        let sliced = framed[1..<framed.count - 1]
        let slicedError = decoder.error(decoding: sliced)
        #expect(slicedError == nil, "valid \(decoder) refused from a slice: \(String(describing: slicedError))")
    }

    @Test("empty input is refused with the decoder's error")
    func emptyInput() {
        let empty: [UInt8] = []
        #expect(throws: IdentityError.self) { try PublicIdentity(serialized: empty) }
        #expect(throws: IdentityError.self) { try PrekeyBundle(serialized: empty) }
        #expect(throws: HandshakeError.malformed) { try SessionEnvelope(serialized: empty) }
        #expect(throws: DecryptionError.malformed) { try GroupMessage(serialized: empty) }
        #expect(throws: DecryptionError.malformed) { try SenderKeyDistribution(serialized: empty) }
        #expect(throws: FileError.malformedManifest) { try FileManifest(serialized: empty) }
        #expect(throws: DecryptionError.malformed) { try Session(serializedState: empty) }
        #expect(throws: IdentityError.self) { try PrivateIdentity(serialized: empty) }
        #expect(throws: SealError.corrupted) {
            try SealedContainer.open(empty, passphrase: MalformedInputFixtures.passphrase, context: MalformedInputFixtures.context)
        }
    }

    @Test("200 seeded random inputs of random lengths are all refused", arguments: UntrustedInputDecoder.allCases)
    func randomGarbage(decoder: UntrustedInputDecoder) {
        let random = SeededRandomSource(seed: "garbage/\(decoder.rawValue)")
        var failures: [String] = []
        for index in 0..<200 {
            let lengthBytes = random.bytes(2)
            let length = (Int(lengthBytes[0]) << 8 | Int(lengthBytes[1])) % 4097
            let garbage = random.bytes(length)
            let error = decoder.error(decoding: garbage[...])
            if error.map(decoder.isMalformedError) != true {
                failures.append("input \(index) (\(length) bytes): \(String(describing: error))")
            }
        }
        #expect(failures.isEmpty, "\(decoder): \(failures.count) garbage inputs not refused as malformed: \(failures.prefix(5))")
    }

    @Test(
        "200 valid encodings with a random stretch overwritten by random bytes: refused if the type is authenticated, typed errors otherwise",
        arguments: UntrustedInputDecoder.allCases
    )
    func splicedGarbage(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        let random = SeededRandomSource(seed: "splice/\(decoder.rawValue)")
        var failures: [String] = []
        for index in 0..<200 {
            let position = random.uniform(below: valid.count)
            let length = 1 + random.uniform(below: min(64, valid.count - position))
            var spliced = valid
            spliced.replaceSubrange(position..<position + length, with: random.bytes(length))
            guard spliced != valid else { continue }
            switch decoder.error(decoding: spliced[...]) {
            case nil where decoder.isAuthenticated:
                failures.append("splice \(index) at \(position)..<\(position + length) accepted")
            case let error? where !decoder.isRejectionError(error):
                failures.append("splice \(index) at \(position)..<\(position + length): \(error)")
            default:
                break
            }
        }
        #expect(failures.isEmpty, "\(decoder): \(failures.prefix(5))")
    }

    /// Like NIO's ByteToMessageDecoderVerifier: the input arrives one more byte at a time, and no
    /// prefix short of the whole is a valid message. (The bundle fixture carries no one-time
    /// prekey, its optional last field: with one, the prefix that stops before it is a valid
    /// bundle without one.)
    @Test("every proper prefix of a valid encoding is refused as malformed", arguments: UntrustedInputDecoder.allCases)
    func everyTruncation(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        var failures: [String] = []
        for length in 0..<valid.count {
            let error = decoder.error(decoding: valid[..<length])
            if error.map(decoder.isMalformedError) != true {
                failures.append("\(length) of \(valid.count) bytes: \(String(describing: error))")
            }
        }
        #expect(failures.isEmpty, "\(decoder): \(failures.count) prefixes not refused: \(failures.prefix(5))")
        #expect(decoder.error(decoding: valid[...]) == nil, "the whole \(decoder) encoding must decode")
    }

    /// A valid encoding padded with an unknown field (which decoders drop) to exactly the limit
    /// decodes, and one byte more is refused: so the refusal comes from the size limit, not from
    /// the content. A sealed container cannot be padded without breaking its checksum; the
    /// authentic oversized container is in SealedContainerTests.
    @Test("input one byte over the size limit is refused; at the limit it decodes", arguments: UntrustedInputDecoder.allCases)
    func oversizedInput(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        let limit = decoder.sizeLimit
        if decoder == .sealedContainer {
            let oversized = valid + [UInt8](repeating: 0, count: limit + 1 - valid.count)
            #expect(decoder.error(decoding: oversized[...]).map(decoder.isMalformedError) == true)
            return
        }
        let atLimit = ProtobufPadding.padded(valid, toCount: limit)
        #expect(atLimit.count == limit)
        let atLimitError = decoder.error(decoding: atLimit[...])
        #expect(atLimitError == nil, "\(decoder) padded to its limit refused: \(String(describing: atLimitError))")

        let overLimit = ProtobufPadding.padded(valid, toCount: limit + 1)
        #expect(overLimit.count == limit + 1)
        let overLimitError = decoder.error(decoding: overLimit[...])
        #expect(
            overLimitError.map(decoder.isTooLargeError) == true,
            "\(decoder) one byte over its limit: \(String(describing: overLimitError))"
        )
    }

    /// Signatures (identities, prekeys), RSA key consistency checks (private identity) and the
    /// trailing checksum (sealed container) cover every byte of these encodings.
    @Test(
        "every bit flip of a signed or checksummed encoding is refused",
        arguments: [UntrustedInputDecoder.publicIdentity, .prekeyBundle, .privateIdentity, .sealedContainer]
    )
    func bitFlipsOfAuthenticatedEncodings(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        var failures: [String] = []
        for flip in BitFlip.all(in: valid, everyBit: decoder.flipsEveryBit) {
            let error = decoder.error(decoding: flip.apply(to: valid)[...])
            if error.map(decoder.isRejectionError) != true {
                failures.append("\(flip): \(String(describing: error))")
            }
        }
        #expect(failures.isEmpty, "\(decoder): \(failures.count) flips not refused: \(failures.prefix(5))")
    }

    /// These carry keys and counters that no signature covers (they travel inside a ratchet
    /// message or a sealed store): a flip may decode, but must then decode to something else,
    /// unless it only re-encodes the same Protocol Buffers message (proto3 reads any non-zero
    /// varint as `true` and drops the bits of a uint32 varint above bit 31). A flip that changed
    /// the wire message but not the decoded value would be a field the decoder ignores.
    @Test(
        "every bit flip of an unsigned encoding is refused as malformed or changes the decoded value",
        arguments: [UntrustedInputDecoder.senderKeyDistribution, .fileManifest, .sessionState]
    )
    func bitFlipsOfUnsignedEncodings(decoder: UntrustedInputDecoder) throws {
        let valid = decoder.validEncoding(in: try MalformedInputFixtures.shared())
        var failures: [String] = []
        var decodedCount = 0
        for flip in BitFlip.all(in: valid, everyBit: decoder.flipsEveryBit) {
            let flipped = flip.apply(to: valid)
            do {
                let reencoded: [UInt8]
                let sameWireMessage: Bool
                switch decoder {
                case .senderKeyDistribution:
                    reencoded = try SenderKeyDistribution(serialized: flipped).serialized
                    sameWireMessage = try WireMessages.equal(WireSenderKeyDistribution.self, flipped, valid)
                case .fileManifest:
                    reencoded = try FileManifest(serialized: flipped).serialized
                    sameWireMessage = try WireMessages.equal(WireFileManifest.self, flipped, valid)
                case .sessionState:
                    reencoded = try Session(serializedState: flipped).serializedState()
                    sameWireMessage = try WireMessages.equal(WireSessionState.self, flipped, valid)
                default:
                    throw MalformedInputFixtures.Unexpected(what: "\(decoder) is not an unsigned encoding")
                }
                decodedCount += 1
                if reencoded == valid && !sameWireMessage {
                    failures.append("\(flip) changed the wire message but decoded to the original value")
                }
            } catch {
                if !decoder.isMalformedError(error) { failures.append("\(flip): \(error)") }
            }
        }
        #expect(failures.isEmpty, "\(decoder): \(failures.count) flips: \(failures.prefix(5))")
        #expect(decodedCount > 0, "no flip decoded: the comparison of decoded values went untested")
    }

    @Test("every bit flip of a ratchet envelope is refused, by the decoder or by the session")
    func bitFlipsOfRatchetEnvelope() throws {
        let encodings = try MalformedInputFixtures.shared()
        let random = SeededRandomSource(seed: "ratchet flips")
        var original = encodings.aliceAwaitingReply
        #expect(try original.decrypt(SessionEnvelope(serialized: encodings.ratchetEnvelope), random: random).text == "hello alice")

        var failures: [String] = []
        var reachedReceiver = 0
        for flip in BitFlip.all(in: encodings.ratchetEnvelope, everyBit: true) {
            let flipped = flip.apply(to: encodings.ratchetEnvelope)
            let envelope: SessionEnvelope
            do throws(HandshakeError) {
                envelope = try SessionEnvelope(serialized: flipped)
            } catch {
                if error != .malformed { failures.append("\(flip): \(error)") }
                continue
            }
            reachedReceiver += 1
            // Any DecryptionError will do: a flipped header or ciphertext byte must not open,
            // unless the flip only re-encoded the same message.
            var session = encodings.aliceAwaitingReply
            if (try? session.decrypt(envelope, random: random)) != nil,
               try !WireMessages.equal(WireSessionEnvelope.self, flipped, encodings.ratchetEnvelope) {
                failures.append("\(flip) decrypted")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) flips: \(failures.prefix(5))")
        #expect(reachedReceiver > 0, "no flip got past the decoder: the receiver's refusal went untested")
    }

    /// One bit per byte (rotating through the eight positions): accepting a prekey message costs
    /// an RSA decryption and an ML-KEM decapsulation, too slow for every bit of 2.7 KB.
    @Test("a bit flip in any byte of a prekey envelope is refused, by the decoder or by Session.accept")
    func bitFlipsOfPrekeyEnvelope() throws {
        let encodings = try MalformedInputFixtures.shared()
        let bob = encodings.bob
        let random = SeededRandomSource(seed: "prekey flips")
        func accept(_ message: PrekeyMessage) throws(HandshakeError) -> Payload {
            try Session.accept(
                message, identity: bob.identity, signedPrekey: bob.signedPrekey,
                postQuantumPrekey: bob.postQuantumPrekey,
                oneTimePrekey: bob.oneTimePrekey(id: message.recipientOneTimePrekeyID), random: random
            ).payload
        }
        guard case .prekey(let original) = try SessionEnvelope(serialized: encodings.prekeyEnvelope) else {
            Issue.record("the prekey envelope fixture is not a prekey envelope")
            return
        }
        #expect(try accept(original).text == "hello bob")

        var failures: [String] = []
        var reachedReceiver = 0
        for flip in BitFlip.all(in: encodings.prekeyEnvelope, everyBit: false) {
            let flipped = flip.apply(to: encodings.prekeyEnvelope)
            let envelope: SessionEnvelope
            do throws(HandshakeError) {
                envelope = try SessionEnvelope(serialized: flipped)
            } catch {
                // .malformed, or .invalidPeer when the flip lands in the sender's identity or
                // signed prekey; never the errors of a later stage.
                if error == .cannotDecrypt || error == .prekeyMismatch { failures.append("\(flip): \(error)") }
                continue
            }
            reachedReceiver += 1
            guard case .prekey(let message) = envelope else {
                failures.append("\(flip) turned the envelope into a ratchet envelope")
                continue
            }
            let accepted: Bool
            do throws(HandshakeError) {
                _ = try accept(message)
                accepted = true
            } catch {
                accepted = false
                if error != .cannotDecrypt && error != .prekeyMismatch { failures.append("\(flip): \(error)") }
            }
            if accepted, try !WireMessages.equal(WireSessionEnvelope.self, flipped, encodings.prekeyEnvelope) {
                failures.append("\(flip) accepted")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) flips: \(failures.prefix(5))")
        #expect(reachedReceiver > 0, "no flip got past the decoder: the receiver's refusal went untested")
    }

    @Test("every bit flip of a group message is refused, by the decoder or by the receiving chain")
    func bitFlipsOfGroupMessage() throws {
        let encodings = try MalformedInputFixtures.shared()
        var original = encodings.groupReceiver
        #expect(try original.decrypt(GroupMessage(serialized: encodings.groupMessage)).text == "hello room")

        var failures: [String] = []
        var reachedReceiver = 0
        for flip in BitFlip.all(in: encodings.groupMessage, everyBit: true) {
            let flipped = flip.apply(to: encodings.groupMessage)
            let message: GroupMessage
            do throws(DecryptionError) {
                message = try GroupMessage(serialized: flipped)
            } catch {
                if error != .malformed { failures.append("\(flip): \(error)") }
                continue
            }
            reachedReceiver += 1
            // The signature covers every header field and the ciphertext: the only way through
            // is a flip that re-encodes the same message (a chain id's varint has spare bits).
            var receiver = encodings.groupReceiver
            let decrypted: Bool
            do throws(DecryptionError) {
                _ = try receiver.decrypt(message)
                decrypted = true
            } catch {
                decrypted = false
                if error != .cannotDecrypt { failures.append("\(flip): \(error)") }
            }
            if decrypted, try !WireMessages.equal(WireGroupMessage.self, flipped, encodings.groupMessage) {
                failures.append("\(flip) decrypted")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) flips: \(failures.prefix(5))")
        #expect(reachedReceiver > 0, "no flip got past the decoder: the receiver's refusal went untested")
    }
}

/// Compares encodings as Protocol Buffers messages. Protocol Buffers encodings are not canonical
/// (a bool is any non-zero varint; a uint32 varint may carry bits above bit 31, which are
/// dropped), so two byte strings can be one message (PROTOCOL.md 2.1). The protocol never
/// authenticates an encoding, only the values in it (2.2), so a decoder may accept both.
private enum WireMessages {
    static func equal<Message: SwiftProtobuf.Message & Equatable>(
        _: Message.Type, _ lhs: [UInt8], _ rhs: [UInt8]
    ) throws -> Bool {
        try Message(boundedBytes: lhs, maxSize: .max) == Message(boundedBytes: rhs, maxSize: .max)
    }
}

/// One flipped bit of an encoding.
private struct BitFlip: CustomStringConvertible {
    let byte: Int
    let bit: Int

    var description: String { "bit \(bit) of byte \(byte)" }

    func apply(to bytes: [UInt8]) -> [UInt8] {
        var flipped = bytes
        flipped[byte] ^= 1 << bit
        return flipped
    }

    /// All eight bits of every byte, or one bit per byte rotating through the eight positions.
    static func all(in bytes: [UInt8], everyBit: Bool) -> [BitFlip] {
        bytes.indices.flatMap { byte in
            everyBit ? (0..<8).map { BitFlip(byte: byte, bit: $0) } : [BitFlip(byte: byte, bit: byte % 8)]
        }
    }
}

/// Pads a Protocol Buffers encoding with unknown fields, which every decoder here drops.
private enum ProtobufPadding {
    /// Field 1000 does not occur in any schema of the protocol.
    static let unknownFieldNumber: UInt64 = 1000

    /// `encoding` followed by unknown fields that bring it to exactly `count` bytes: one
    /// length-delimited field, preceded by an empty varint field when the length prefix's own
    /// size makes an exact fit impossible (as when 129 bytes remain).
    static func padded(_ encoding: [UInt8], toCount count: Int) -> [UInt8] {
        let filler = varint(unknownFieldNumber << 3) + [0] // varint field, value 0
        for prefix in [[], filler] {
            let head = encoding + prefix + varint(unknownFieldNumber << 3 | 2)
            let room = count - head.count
            for lengthSize in 1...5 where room - lengthSize >= 0 {
                let contentLength = room - lengthSize
                if varint(UInt64(contentLength)).count == lengthSize {
                    return head + varint(UInt64(contentLength)) + [UInt8](repeating: 0, count: contentLength)
                }
            }
        }
        preconditionFailure("cannot pad \(encoding.count) bytes to \(count)")
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
        return out
    }
}

fileprivate extension SeededRandomSource {
    /// A number in 0..<bound, from four random bytes (the bounds here are small, so the modulo
    /// bias does not matter to a test).
    func uniform(below bound: Int) -> Int {
        let bytes = bytes(4)
        return bytes.reduce(0) { $0 << 8 | Int($1) } % bound
    }
}
