import CipherWire
import Crypto
import Foundation

/// A member's own sender chain for one room (PROTOCOL.md 8): a chain key stepped once per
/// message and an Ed25519 key that signs every message, so members cannot forge each other.
/// Sent to each other member through the pairwise sessions as a `SenderKeyDistribution`.
public struct SenderChain: Sendable {
    public let room: String
    public let owner: Fingerprint
    public let chainID: UInt32
    public private(set) var iteration: UInt32
    var chainKey: ChainKey
    let signingKey: Curve25519.Signing.PrivateKey

    /// A fresh chain: made on joining, and again whenever a member leaves or is removed.
    public static func generate(room: String, owner: Fingerprint, random: some RandomSource) throws -> SenderChain {
        guard GroupMessageHeader.isValidRoom(room) else { throw GroupError.invalidRoomName }
        let idBytes = random.bytes(4)
        return SenderChain(
            room: room, owner: owner,
            chainID: idBytes.reduce(0) { $0 << 8 | UInt32($1) },
            iteration: 0,
            chainKey: ChainKey(SymmetricKey(data: random.bytes(32))),
            signingKey: try Curve25519.Signing.PrivateKey(rawRepresentation: random.bytes(32))
        )
    }

    /// What the other members need to read this chain from its current iteration on; sent only
    /// inside pairwise ratchet messages. It holds the chain key: never log it.
    public var distribution: SenderKeyDistribution {
        SenderKeyDistribution(
            room: room, chainID: chainID, iteration: iteration,
            chainKey: chainKey.key.bytes, signingPublicKey: Array(signingKey.publicKey.rawRepresentation)
        )
    }

    /// Encrypts and signs one payload for the room; returns the `GroupMessage` bytes.
    public mutating func encrypt(_ payload: Payload) throws -> [UInt8] {
        guard iteration < UInt32.max else { throw GroupError.chainExhausted }
        let (messageKey, next) = chainKey.step()
        let header = GroupMessageHeader(room: room, sender: owner, chainID: chainID, iteration: iteration)
        let ciphertext = try MessageKeys(messageKey: messageKey, label: Label.groupMessageKeys)
            .seal(try payload.encoded(), authenticating: header.associatedData)
        let signature = try signingKey.signature(for: header.signedBytes(ciphertext: ciphertext))
        chainKey = next
        iteration += 1
        return header.wire(ciphertext: ciphertext, signature: Array(signature)).encodedBytes
    }
}

/// The chain-key handover from one member to another for one room.
public struct SenderKeyDistribution: Sendable, Hashable {
    public let room: String
    public let chainID: UInt32
    public let iteration: UInt32
    let chainKey: [UInt8]
    public let signingPublicKey: [UInt8]

    init(room: String, chainID: UInt32, iteration: UInt32, chainKey: [UInt8], signingPublicKey: [UInt8]) {
        self.room = room
        self.chainID = chainID
        self.iteration = iteration
        self.chainKey = chainKey
        self.signingPublicKey = signingPublicKey
    }

    public init(serialized bytes: some Collection<UInt8>) throws(DecryptionError) {
        let wire: WireSenderKeyDistribution
        do {
            wire = try WireSenderKeyDistribution(boundedBytes: bytes, maxSize: 512)
        } catch {
            throw .malformed
        }
        guard GroupMessageHeader.isValidRoom(wire.room), wire.chainKey.count == 32, wire.signingKey.count == 32 else {
            throw .malformed
        }
        self.init(
            room: wire.room, chainID: wire.chainID, iteration: wire.iteration,
            chainKey: Array(wire.chainKey), signingPublicKey: Array(wire.signingKey)
        )
    }

    /// The content of a `Payload` of kind `.groupKeyDistribution`.
    public var serialized: [UInt8] {
        var wire = WireSenderKeyDistribution()
        wire.room = room
        wire.chainID = chainID
        wire.iteration = iteration
        wire.chainKey = Data(chainKey)
        wire.signingKey = Data(signingPublicKey)
        return wire.encodedBytes
    }
}

extension SenderChain: CustomStringConvertible {
    public var description: String { "SenderChain(\(room), chain \(chainID), iteration \(iteration), keys redacted)" }
}

extension SenderKeyDistribution: CustomStringConvertible {
    public var description: String { "SenderKeyDistribution(\(room), chain \(chainID), iteration \(iteration), key redacted)" }
}
