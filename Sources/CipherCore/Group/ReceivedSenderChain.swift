import CipherWire
import Crypto
import Foundation

/// Another member's sender chain as this member holds it (PROTOCOL.md 8.4): verifies each
/// message's signature, then steps the chain to the message's iteration, keeping skipped keys
/// within the same bounds as the pairwise ratchet. A used key is gone, so a replay fails.
public struct ReceivedSenderChain: Sendable {
    public let room: String
    public let owner: Fingerprint
    public let chainID: UInt32
    public private(set) var iteration: UInt32
    var chainKey: ChainKey
    let signingKey: Curve25519.Signing.PublicKey
    var skipped: [UInt32: SymmetricKey] = [:]

    public init(_ distribution: SenderKeyDistribution, from owner: Fingerprint) throws(DecryptionError) {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: distribution.signingPublicKey) else {
            throw .malformed
        }
        room = distribution.room
        self.owner = owner
        chainID = distribution.chainID
        iteration = distribution.iteration
        chainKey = ChainKey(SymmetricKey(data: distribution.chainKey))
        signingKey = key
    }

    init(room: String, owner: Fingerprint, chainID: UInt32, iteration: UInt32, chainKey: ChainKey,
         signingKey: Curve25519.Signing.PublicKey, skipped: [UInt32: SymmetricKey]) {
        self.room = room
        self.owner = owner
        self.chainID = chainID
        self.iteration = iteration
        self.chainKey = chainKey
        self.signingKey = signingKey
        self.skipped = skipped
    }

    /// Verifies and decrypts one message of this chain. On any error the chain is unchanged.
    public mutating func decrypt(_ message: GroupMessage) throws(DecryptionError) -> Payload {
        let header = message.header
        guard message.room == room, message.sender == owner, message.chainID == chainID,
              signingKey.isValidSignature(message.signature, for: header.signedBytes(ciphertext: message.ciphertext)) else {
            throw .cannotDecrypt
        }
        var next = self
        let messageKey: SymmetricKey
        if let key = next.skipped.removeValue(forKey: message.iteration) {
            messageKey = key
        } else {
            // The last iteration would leave no next chain key: a chain ends one short of 2^32.
            guard message.iteration >= next.iteration, message.iteration < UInt32.max else { throw .cannotDecrypt }
            guard message.iteration - next.iteration <= SkippedMessageKeys.maxSkipPerChain else { throw .tooFarAhead }
            while next.iteration < message.iteration {
                let (key, following) = next.chainKey.step()
                next.skipped[next.iteration] = key
                next.chainKey = following
                next.iteration += 1
            }
            let (key, following) = next.chainKey.step()
            messageKey = key
            next.chainKey = following
            next.iteration += 1
            next.evictOldestSkipped()
        }
        let plaintext = try MessageKeys(messageKey: messageKey, label: Label.groupMessageKeys)
            .open(message.ciphertext, authenticating: header.associatedData)
        let payload = try Payload(decoding: plaintext)
        self = next
        return payload
    }

    private mutating func evictOldestSkipped() {
        guard skipped.count > SkippedMessageKeys.maxTotal else { return }
        for iteration in skipped.keys.sorted().prefix(skipped.count - SkippedMessageKeys.maxTotal) {
            skipped[iteration] = nil
        }
    }
}

extension ReceivedSenderChain: CustomStringConvertible {
    public var description: String {
        "ReceivedSenderChain(\(room), from \(owner.shortID), chain \(chainID), iteration \(iteration), keys redacted)"
    }
}
