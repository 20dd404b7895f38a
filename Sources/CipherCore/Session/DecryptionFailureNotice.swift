import CipherWire
import Crypto
import Foundation

/// What a client tells a contact whose envelopes it could not decrypt (PROTOCOL.md 7.3): the
/// content of a `KIND_DECRYPTION_FAILURE` payload, sent in a new session so that the notice
/// itself does not depend on the session that failed. Each envelope is named by its digest,
/// which its sender can compute from the bytes it sent, and which says nothing else.
public struct DecryptionFailureNotice: Sendable, Hashable {
    public static let digestSize = 32
    /// At most this many digests in one notice: the newest failures, if there were more.
    public static let maxDigests = 64
    /// The longest content a receiver decodes: 64 digests with their field headers, and room
    /// for fields a later version may add.
    public static let maxContentSize = 4096

    /// Envelope digests, oldest failure first; 1 to `maxDigests`, each `digestSize` bytes.
    public let envelopeDigests: [[UInt8]]

    public init(envelopeDigests: [[UInt8]]) {
        self.envelopeDigests = Array(envelopeDigests.suffix(Self.maxDigests))
    }

    /// `SHA-256(LP("cipherchat/v1/envelope-digest") || envelope)`, over a `SessionEnvelope`'s
    /// bytes exactly as the sender sent them and the relay delivered them (PROTOCOL.md 7.3).
    public static func envelopeDigest(_ envelope: some Collection<UInt8>) -> [UInt8] {
        var input = CanonicalBytes(label: Label.envelopeDigest)
        input.raw(envelope)
        return Array(SHA256.hash(data: input.bytes))
    }

    public func encoded() -> [UInt8] {
        var wire = WireDecryptionFailure()
        wire.envelopeDigests = envelopeDigests.map { Data($0) }
        return wire.encodedBytes
    }

    /// Refuses (`DecryptionError.malformed`) content that is too long, does not parse, or holds
    /// no digest, more than `maxDigests`, or one that is not 32 bytes.
    public init(decoding content: [UInt8]) throws(DecryptionError) {
        let wire: WireDecryptionFailure
        do {
            wire = try WireDecryptionFailure(boundedBytes: content, maxSize: Self.maxContentSize)
        } catch {
            throw .malformed
        }
        guard (1...Self.maxDigests).contains(wire.envelopeDigests.count),
              wire.envelopeDigests.allSatisfy({ $0.count == Self.digestSize }) else {
            throw .malformed
        }
        envelopeDigests = wire.envelopeDigests.map { Array($0) }
    }
}
