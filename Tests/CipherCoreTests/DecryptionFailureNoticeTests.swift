import CipherCore
import CipherWire
import Foundation
import Testing

/// The content of a `KIND_DECRYPTION_FAILURE` payload (PROTOCOL.md 7.3) and its bounds.
@Suite("Decryption-failure notices")
struct DecryptionFailureNoticeTests {
    private static func digest(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    @Test("a notice round-trips, oldest digest first, and keeps only the newest 64")
    func roundTrip() throws {
        let notice = DecryptionFailureNotice(envelopeDigests: [Self.digest(1), Self.digest(2)])
        #expect(try DecryptionFailureNotice(decoding: notice.encoded()) == notice)
        let many = DecryptionFailureNotice(envelopeDigests: (0..<70).map { Self.digest(UInt8($0)) })
        #expect(many.envelopeDigests.count == 64)
        #expect(many.envelopeDigests.first == Self.digest(6))
        #expect(try DecryptionFailureNotice(decoding: many.encoded()) == many)
    }

    @Test("no digest, 65 digests, a digest of 31 or 33 bytes, garbage and oversized content are refused as malformed")
    func refusals() throws {
        func encoding(_ digests: [[UInt8]]) -> [UInt8] {
            var wire = WireDecryptionFailure()
            wire.envelopeDigests = digests.map { Data($0) }
            return wire.encodedBytes
        }
        let refused: [[UInt8]] = [
            encoding([]),
            encoding((0..<65).map { Self.digest(UInt8($0)) }),
            encoding([[UInt8](repeating: 1, count: 31)]),
            encoding([Self.digest(1), [UInt8](repeating: 1, count: 33)]),
            [0xff, 0xff, 0xff],
            encoding([Self.digest(1)]) + [0x12, 0x80, 0x20] + [UInt8](repeating: 0, count: 4096),
        ]
        for content in refused {
            #expect(throws: DecryptionError.malformed) { try DecryptionFailureNotice(decoding: content) }
        }
    }

    @Test("the envelope digest is SHA-256 of LP(label) and the envelope's bytes, and differs for one changed byte")
    func digest() {
        let envelope: [UInt8] = Array("an envelope".utf8)
        var changed = envelope
        changed[0] ^= 1
        #expect(DecryptionFailureNotice.envelopeDigest(envelope).count == 32)
        #expect(DecryptionFailureNotice.envelopeDigest(envelope) != DecryptionFailureNotice.envelopeDigest(changed))
    }

    @Test("a payload of kind KIND_DECRYPTION_FAILURE round-trips")
    func payloadKind() throws {
        let payload = Payload(
            messageID: [UInt8](repeating: 9, count: 16), sentAtMilliseconds: 1, kind: .decryptionFailure,
            content: DecryptionFailureNotice(envelopeDigests: [Self.digest(3)]).encoded()
        )
        #expect(try Payload(decoding: payload.encoded()) == payload)
    }
}
