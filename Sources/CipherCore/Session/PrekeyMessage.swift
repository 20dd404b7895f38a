import CipherWire
import Foundation

/// A session-establishing message as received, its sender's identity and signed prekey already
/// verified (PROTOCOL.md 5.3). The recipient looks up its own prekeys by the ids named here and
/// passes them to `Session.accept`.
public struct PrekeyMessage: Sendable {
    public let senderIdentity: PublicIdentity
    public let senderSignedPrekey: SignedPrekey
    public let recipientSignedPrekeyID: UInt32
    public let recipientPostQuantumPrekeyID: UInt32
    public let recipientOneTimePrekeyID: UInt32?
    /// EK_A: identifies the session this message belongs to.
    public let ephemeralKey: [UInt8]
    let wrappedSecret: [UInt8]
    let kemCiphertext: [UInt8]
    /// The first message of the session, under the ratchet it starts.
    public let message: RatchetMessage

    init(wire: WirePrekeyMessage) throws(HandshakeError) {
        guard wire.hasSenderIdentity, wire.hasSenderSignedPrekey, wire.hasMessage,
              wire.ephemeralKey.count == 32,
              [256, 384, 512].contains(wire.wrappedSecret.count),
              wire.kemCiphertext.count == PostQuantumPrekey.ciphertextSize else {
            throw .malformed
        }
        do {
            senderIdentity = try PublicIdentity(wire: wire.senderIdentity)
            senderSignedPrekey = try SignedPrekey(wire: wire.senderSignedPrekey, owner: senderIdentity)
        } catch {
            throw .invalidPeer(error)
        }
        do {
            message = try RatchetMessage(wire: wire.message)
        } catch {
            throw .malformed
        }
        recipientSignedPrekeyID = wire.recipientSignedPrekeyID
        recipientPostQuantumPrekeyID = wire.recipientPostQuantumPrekeyID
        recipientOneTimePrekeyID = wire.oneTimePrekeyUsed ? wire.recipientOneTimePrekeyID : nil
        ephemeralKey = Array(wire.ephemeralKey)
        wrappedSecret = Array(wire.wrappedSecret)
        kemCiphertext = Array(wire.kemCiphertext)
    }
}

/// What an initiator repeats in every message until the responder has answered, so that the
/// responder can start the session from whichever of them arrives first.
struct PendingPrekey: Sendable {
    let senderIdentity: PublicIdentity
    let senderSignedPrekey: SignedPrekey
    let recipientSignedPrekeyID: UInt32
    let recipientPostQuantumPrekeyID: UInt32
    let recipientOneTimePrekeyID: UInt32?
    let ephemeralKey: [UInt8]
    let wrappedSecret: [UInt8]
    let kemCiphertext: [UInt8]

    func wire(carrying message: RatchetMessage) -> WirePrekeyMessage {
        var wire = WirePrekeyMessage()
        wire.senderIdentity = senderIdentity.wire
        wire.senderSignedPrekey = senderSignedPrekey.wire
        wire.recipientSignedPrekeyID = recipientSignedPrekeyID
        wire.recipientPostQuantumPrekeyID = recipientPostQuantumPrekeyID
        if let id = recipientOneTimePrekeyID {
            wire.oneTimePrekeyUsed = true
            wire.recipientOneTimePrekeyID = id
        }
        wire.ephemeralKey = Data(ephemeralKey)
        wire.wrappedSecret = Data(wrappedSecret)
        wire.kemCiphertext = Data(kemCiphertext)
        wire.message = message.wire
        return wire
    }
}

/// A message between two users' clients, parsed and bounded (PROTOCOL.md 6.6).
public enum SessionEnvelope: Sendable {
    case prekey(PrekeyMessage)
    case ratchet(RatchetMessage)

    public static let maxSerializedSize = RatchetMessage.maxCiphertextSize + 16 * 1024

    public init(serialized bytes: some Collection<UInt8>) throws(HandshakeError) {
        let wire: WireSessionEnvelope
        do {
            wire = try WireSessionEnvelope(boundedBytes: bytes, maxSize: Self.maxSerializedSize)
        } catch {
            throw .malformed
        }
        switch wire.body {
        case .prekey(let prekey):
            self = .prekey(try PrekeyMessage(wire: prekey))
        case .ratchet(let ratchet):
            do {
                self = .ratchet(try RatchetMessage(wire: ratchet))
            } catch {
                throw .malformed
            }
        case nil:
            throw .malformed
        }
    }
}
