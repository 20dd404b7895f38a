import CipherWire
import Foundation

/// One Double Ratchet message: the header in the clear (authenticated) and the AEAD output
/// (PROTOCOL.md 6.4).
public struct RatchetMessage: Sendable, Hashable {
    public static let maxCiphertextSize = 256 * 1024

    public let ratchetKey: [UInt8]
    public let previousChainLength: UInt32
    public let messageNumber: UInt32
    public let ciphertext: [UInt8]

    init(ratchetKey: [UInt8], previousChainLength: UInt32, messageNumber: UInt32, ciphertext: [UInt8]) {
        self.ratchetKey = ratchetKey
        self.previousChainLength = previousChainLength
        self.messageNumber = messageNumber
        self.ciphertext = ciphertext
    }

    public init(wire: WireRatchetMessage) throws(DecryptionError) {
        guard wire.ratchetKey.count == 32,
              wire.ciphertext.count >= 16, wire.ciphertext.count <= Self.maxCiphertextSize else {
            throw .malformed
        }
        ratchetKey = Array(wire.ratchetKey)
        previousChainLength = wire.previousChainLength
        messageNumber = wire.messageNumber
        ciphertext = Array(wire.ciphertext)
    }

    public var wire: WireRatchetMessage {
        var wire = WireRatchetMessage()
        wire.ratchetKey = Data(ratchetKey)
        wire.previousChainLength = previousChainLength
        wire.messageNumber = messageNumber
        wire.ciphertext = Data(ciphertext)
        return wire
    }

    /// `ratchet key (32) || u32(previous chain length) || u32(message number)`: 40 bytes.
    var headerBytes: [UInt8] {
        var out = CanonicalBytes()
        out.raw(ratchetKey)
        out.uint32(previousChainLength)
        out.uint32(messageNumber)
        return out.bytes
    }

    static func associatedData(sessionAD: [UInt8], header: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes(label: Label.ratchetMessage)
        out.raw(sessionAD)
        out.raw(header)
        return out.bytes
    }
}
