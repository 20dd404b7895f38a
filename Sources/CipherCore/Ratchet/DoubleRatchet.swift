import CipherWire
import Crypto
import Foundation

/// The Double Ratchet (PROTOCOL.md 6), following Signal's specification: an X25519 DH ratchet
/// feeding an HKDF-SHA256 root chain, HMAC-SHA256 sending and receiving chains, AES-256-GCM per
/// message. A value type: `decrypt` works on a copy and commits only on success, so a forged or
/// replayed message leaves the state exactly as it was.
public struct DoubleRatchet: Sendable {
    var rootKey: SymmetricKey
    var ownRatchetKey: Curve25519.KeyAgreement.PrivateKey
    var remoteRatchetKey: [UInt8]?
    var sendingChain: ChainKey?
    var receivingChain: ChainKey?
    var sendingMessageNumber: UInt32 = 0
    var receivingMessageNumber: UInt32 = 0
    var previousSendingChainLength: UInt32 = 0
    var skipped = SkippedMessageKeys()
    /// Bound into every message's associated data: both fingerprints and the handshake
    /// transcript hash (PROTOCOL.md 5.4).
    let associatedData: [UInt8]

    /// The initiator's start: it already knows the responder's first ratchet key (its signed
    /// prekey), so it performs the first DH ratchet step at once and can send immediately.
    static func initiator(
        sharedSecret: SymmetricKey, remoteRatchetKey: [UInt8], associatedData: [UInt8], random: some RandomSource
    ) throws -> DoubleRatchet {
        let ownKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random.bytes(32))
        var ratchet = DoubleRatchet(restoringRootKey: sharedSecret, ownRatchetKey: ownKey, associatedData: associatedData)
        ratchet.remoteRatchetKey = remoteRatchetKey
        let (root, chain) = try Self.rootStep(rootKey: sharedSecret, own: ownKey, remote: remoteRatchetKey)
        ratchet.rootKey = root
        ratchet.sendingChain = chain
        return ratchet
    }

    /// The responder's start: its signed prekey is its first ratchet key; it can send once it
    /// has received the initiator's first message.
    static func responder(
        sharedSecret: SymmetricKey, ownRatchetKey: Curve25519.KeyAgreement.PrivateKey, associatedData: [UInt8]
    ) -> DoubleRatchet {
        DoubleRatchet(restoringRootKey: sharedSecret, ownRatchetKey: ownRatchetKey, associatedData: associatedData)
    }

    init(restoringRootKey rootKey: SymmetricKey, ownRatchetKey: Curve25519.KeyAgreement.PrivateKey, associatedData: [UInt8]) {
        self.rootKey = rootKey
        self.ownRatchetKey = ownRatchetKey
        self.associatedData = associatedData
    }

    var canSend: Bool { sendingChain != nil }

    mutating func encrypt(_ plaintext: [UInt8]) throws -> RatchetMessage {
        guard let chain = sendingChain else { throw DecryptionError.malformed }
        // A chain ends one short of 2^32 messages; the peer's next reply starts a new one.
        guard sendingMessageNumber < UInt32.max else { throw SessionError.chainExhausted }
        let (messageKey, next) = chain.step()
        let header = RatchetMessage(
            ratchetKey: Array(ownRatchetKey.publicKey.rawRepresentation),
            previousChainLength: previousSendingChainLength,
            messageNumber: sendingMessageNumber,
            ciphertext: []
        )
        let aad = RatchetMessage.associatedData(sessionAD: associatedData, header: header.headerBytes)
        let ciphertext = try MessageKeys(messageKey: messageKey, label: Label.messageKeys).seal(plaintext, authenticating: aad)
        sendingChain = next
        sendingMessageNumber += 1
        return RatchetMessage(
            ratchetKey: header.ratchetKey, previousChainLength: header.previousChainLength,
            messageNumber: header.messageNumber, ciphertext: ciphertext
        )
    }

    mutating func decrypt(_ message: RatchetMessage, random: some RandomSource) throws(DecryptionError) -> [UInt8] {
        // The last number would leave no next chain key (and overflow the counter).
        guard message.messageNumber < UInt32.max, message.previousChainLength < UInt32.max else { throw .cannotDecrypt }
        let aad = RatchetMessage.associatedData(sessionAD: associatedData, header: message.headerBytes)
        var next = self
        let slot = SkippedMessageKeys.Slot(ratchetKey: message.ratchetKey, messageNumber: message.messageNumber)
        if let key = next.skipped.take(slot) {
            let plaintext = try MessageKeys(messageKey: key, label: Label.messageKeys).open(message.ciphertext, authenticating: aad)
            self = next
            return plaintext
        }
        if message.ratchetKey != next.remoteRatchetKey {
            try next.skipReceivingKeys(until: message.previousChainLength)
            try next.ratchetStep(remoteRatchetKey: message.ratchetKey, random: random)
        }
        try next.skipReceivingKeys(until: message.messageNumber)
        guard let chain = next.receivingChain else { throw .cannotDecrypt }
        let (messageKey, following) = chain.step()
        next.receivingChain = following
        next.receivingMessageNumber += 1
        let plaintext = try MessageKeys(messageKey: messageKey, label: Label.messageKeys).open(message.ciphertext, authenticating: aad)
        self = next
        return plaintext
    }

    private mutating func skipReceivingKeys(until messageNumber: UInt32) throws(DecryptionError) {
        guard var chain = receivingChain, let remote = remoteRatchetKey else { return }
        // A number behind the chain is a message whose key was already used or evicted.
        guard messageNumber >= receivingMessageNumber else { return }
        guard messageNumber - receivingMessageNumber <= SkippedMessageKeys.maxSkipPerChain else { throw .tooFarAhead }
        while receivingMessageNumber < messageNumber {
            let (messageKey, following) = chain.step()
            skipped.insert(messageKey, for: .init(ratchetKey: remote, messageNumber: receivingMessageNumber))
            chain = following
            receivingMessageNumber += 1
        }
        receivingChain = chain
    }

    private mutating func ratchetStep(remoteRatchetKey remote: [UInt8], random: some RandomSource) throws(DecryptionError) {
        do {
            previousSendingChainLength = sendingMessageNumber
            sendingMessageNumber = 0
            receivingMessageNumber = 0
            remoteRatchetKey = remote
            let (rootAfterReceive, receiving) = try Self.rootStep(rootKey: rootKey, own: ownRatchetKey, remote: remote)
            receivingChain = receiving
            ownRatchetKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random.bytes(32))
            let (rootAfterSend, sending) = try Self.rootStep(rootKey: rootAfterReceive, own: ownRatchetKey, remote: remote)
            rootKey = rootAfterSend
            sendingChain = sending
        } catch {
            throw .cannotDecrypt
        }
    }

    /// KDF_RK: HKDF-SHA256 with the root key as salt and the DH output as input key material,
    /// 64 bytes out: the new root key, then the new chain key.
    static func rootStep(
        rootKey: SymmetricKey, own: Curve25519.KeyAgreement.PrivateKey, remote: [UInt8]
    ) throws -> (SymmetricKey, ChainKey) {
        let remoteKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: remote)
        let shared = try own.sharedSecretFromKeyAgreement(with: remoteKey)
        let output = shared.withUnsafeBytes { dh in
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: dh), salt: rootKey.bytes,
                info: Array(Label.ratchetRoot.utf8), outputByteCount: 64
            )
        }
        return output.withUnsafeBytes { bytes in
            (SymmetricKey(data: bytes.prefix(32)), ChainKey(SymmetricKey(data: bytes.suffix(32))))
        }
    }
}

extension DoubleRatchet: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "DoubleRatchet(sent: \(sendingMessageNumber), received: \(receivingMessageNumber), skipped: \(skipped.count), keys redacted)"
    }
    public var debugDescription: String { description }
}
