import CipherWire
import Foundation

/// The plaintext inside every ratchet and group message (PROTOCOL.md 7).
public struct Payload: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case text
        case fileManifest
        case groupKeyDistribution
        case membership
        case receipt
        /// A file uploaded to the relay: a `FileOffer` (PROTOCOL.md 9.4).
        case fileOffer
        /// Envelopes the sender could not decrypt: a `DecryptionFailureNotice` (PROTOCOL.md 7.3).
        case decryptionFailure
    }

    public static let messageIDSize = 16
    public static let maxContentSize = 64 * 1024
    /// Encoded payloads are padded to a multiple of this many bytes, so a ciphertext's length
    /// says little about a short message's length.
    static let paddingBlock = 32

    /// Random, 128 bits: how a receiver recognises a message it has already shown.
    public let messageID: [UInt8]
    /// The sender's clock, milliseconds since the Unix epoch. Shown, never used to reject.
    public let sentAtMilliseconds: UInt64
    public let kind: Kind
    public let content: [UInt8]

    public init(kind: Kind, content: [UInt8], sentAtMilliseconds: UInt64, random: some RandomSource) {
        self.init(messageID: random.bytes(Self.messageIDSize), sentAtMilliseconds: sentAtMilliseconds, kind: kind, content: content)
    }

    public init(messageID: [UInt8], sentAtMilliseconds: UInt64, kind: Kind, content: [UInt8]) {
        self.messageID = messageID
        self.sentAtMilliseconds = sentAtMilliseconds
        self.kind = kind
        self.content = content
    }

    public static func text(_ text: String, sentAtMilliseconds: UInt64, random: some RandomSource) -> Payload {
        Payload(kind: .text, content: Array(text.utf8), sentAtMilliseconds: sentAtMilliseconds, random: random)
    }

    /// The content as text, for kind `.text`; invalid UTF-8 is replaced, never trusted.
    public var text: String { String(decoding: content, as: UTF8.self) }

    /// The padded encoding that a ratchet or group message encrypts (PROTOCOL.md 7.1), also how
    /// a client keeps a payload it may have to send again.
    public func encoded() throws -> [UInt8] {
        guard content.count <= Self.maxContentSize else { throw PayloadError.tooLarge }
        var wire = WirePayload()
        wire.messageID = Data(messageID)
        wire.sentAtMs = sentAtMilliseconds
        wire.kind = kind.wire
        wire.content = Data(content)
        let unpadded = wire.encodedBytes
        guard unpadded.count % Self.paddingBlock != 0 else { return unpadded }
        // Field 5 costs a tag byte and a one-byte length (padding is under 128 bytes), and an
        // empty field is not written at all, hence never zero bytes of padding.
        var padding = (Self.paddingBlock - (unpadded.count + 2) % Self.paddingBlock) % Self.paddingBlock
        if padding == 0 { padding = Self.paddingBlock }
        wire.padding = Data(count: padding)
        return wire.encodedBytes
    }

    public init(decoding bytes: [UInt8]) throws(DecryptionError) {
        let wire: WirePayload
        do {
            wire = try WirePayload(boundedBytes: bytes, maxSize: Self.maxContentSize + 1024)
        } catch {
            throw .malformed
        }
        guard wire.messageID.count == Self.messageIDSize, wire.content.count <= Self.maxContentSize,
              let kind = Kind(wire: wire.kind) else {
            throw .malformed
        }
        self.init(messageID: Array(wire.messageID), sentAtMilliseconds: wire.sentAtMs, kind: kind, content: Array(wire.content))
    }
}

/// Why a payload could not be sent.
public enum PayloadError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLarge

    public var description: String { "a message's content is limited to \(Payload.maxContentSize) bytes" }
}

extension Payload.Kind {
    var wire: WirePayload.Kind {
        switch self {
        case .text: .text
        case .fileManifest: .fileManifest
        case .groupKeyDistribution: .groupKeyDistribution
        case .membership: .membership
        case .receipt: .receipt
        case .fileOffer: .fileOffer
        case .decryptionFailure: .decryptionFailure
        }
    }

    init?(wire: WirePayload.Kind) {
        switch wire {
        case .text: self = .text
        case .fileManifest: self = .fileManifest
        case .groupKeyDistribution: self = .groupKeyDistribution
        case .membership: self = .membership
        case .receipt: self = .receipt
        case .fileOffer: self = .fileOffer
        case .decryptionFailure: self = .decryptionFailure
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }
}
