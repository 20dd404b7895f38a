import CipherWire
import Foundation

/// The public header of a group message and the byte strings built from it (PROTOCOL.md 8.3).
struct GroupMessageHeader {
    static let maxRoomNameSize = 64

    let room: String
    let sender: Fingerprint
    let chainID: UInt32
    let iteration: UInt32

    /// `LP(label) || LP(room) || LP(sender fingerprint) || u32(chain id) || u32(iteration)`.
    var associatedData: [UInt8] {
        var out = CanonicalBytes(label: Label.groupMessage)
        out.field(Array(room.utf8))
        out.field(sender.bytes)
        out.uint32(chainID)
        out.uint32(iteration)
        return out.bytes
    }

    /// What the sender's Ed25519 key signs: the associated data and then `LP(ciphertext)`.
    func signedBytes(ciphertext: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes()
        out.raw(associatedData)
        out.field(ciphertext)
        return out.bytes
    }

    func wire(ciphertext: [UInt8], signature: [UInt8]) -> WireGroupMessage {
        var wire = WireGroupMessage()
        wire.room = room
        wire.senderFingerprint = Data(sender.bytes)
        wire.chainID = chainID
        wire.iteration = iteration
        wire.ciphertext = Data(ciphertext)
        wire.signature = Data(signature)
        return wire
    }

    static func isValidRoom(_ room: String) -> Bool {
        !room.isEmpty && room.utf8.count <= maxRoomNameSize
    }
}

/// A group message as received: parsed and bounded, not yet verified or decrypted.
public struct GroupMessage: Sendable {
    public static let maxSerializedSize = RatchetMessage.maxCiphertextSize + 1024

    public let room: String
    public let sender: Fingerprint
    public let chainID: UInt32
    public let iteration: UInt32
    let ciphertext: [UInt8]
    let signature: [UInt8]

    public init(serialized bytes: some Collection<UInt8>) throws(DecryptionError) {
        let wire: WireGroupMessage
        do {
            wire = try WireGroupMessage(boundedBytes: bytes, maxSize: Self.maxSerializedSize)
        } catch {
            throw .malformed
        }
        guard GroupMessageHeader.isValidRoom(wire.room),
              let sender = Fingerprint(bytes: Array(wire.senderFingerprint)),
              wire.ciphertext.count >= 16, wire.ciphertext.count <= RatchetMessage.maxCiphertextSize,
              wire.signature.count == 64 else {
            throw .malformed
        }
        room = wire.room
        self.sender = sender
        chainID = wire.chainID
        iteration = wire.iteration
        ciphertext = Array(wire.ciphertext)
        signature = Array(wire.signature)
    }

    var header: GroupMessageHeader {
        GroupMessageHeader(room: room, sender: sender, chainID: chainID, iteration: iteration)
    }
}
