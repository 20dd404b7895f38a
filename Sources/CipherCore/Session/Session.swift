import CipherWire
import Crypto
import Foundation
import _CryptoExtras

/// A pairwise end-to-end session: the asynchronous prekey handshake (PROTOCOL.md 5) followed by
/// the Double Ratchet (PROTOCOL.md 6). Takes and returns bytes and state; it performs no I/O.
public struct Session: Sendable {
    static let associatedDataSize = 96

    var ratchet: DoubleRatchet
    var pendingPrekey: PendingPrekey?
    public let localFingerprint: Fingerprint
    public let remoteFingerprint: Fingerprint
    /// EK_A, the initiator's ephemeral key: names this session in prekey messages.
    public let baseKey: [UInt8]

    /// Whether this side still repeats the prekey header (it has not yet heard from the peer).
    public var isAwaitingReply: Bool { pendingPrekey != nil }

    /// Starts a session with the owner of `bundle`, who may be offline. Costs no RSA private-key
    /// operation: this side is authenticated by its signed prekey.
    public static func initiate(
        identity: PrivateIdentity, signedPrekey: SignedPrekeyPair, bundle: PrekeyBundle, random: some RandomSource
    ) throws -> Session {
        let ephemeral = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random.bytes(32))
        var secret = random.bytes(32)
        defer { wipe(&secret) }
        let wrappedSecret = Array(try bundle.identity.encryptionKey.value.encrypt(secret, padding: .PKCS1_OAEP_SHA256))
        let pqKey = try XWingMLKEM768X25519.PublicKey(rawRepresentation: bundle.postQuantumPrekey.publicKey)
        let encapsulation = try pqKey.encapsulate()
        let transcript = HandshakeTranscript(
            initiator: identity.publicIdentity, responder: bundle.identity,
            initiatorSignedPrekey: signedPrekey.publicPrekey, responderSignedPrekey: bundle.signedPrekey,
            responderPostQuantumPrekey: bundle.postQuantumPrekey, responderOneTimePrekey: bundle.oneTimePrekey,
            ephemeralKey: Array(ephemeral.publicKey.rawRepresentation),
            wrappedSecret: wrappedSecret, kemCiphertext: Array(encapsulation.encapsulated)
        )
        var keyMaterial = try signedPrekey.privateKey.sharedSecretFromKeyAgreement(with: bundle.signedPrekey.agreementKey).rawBytes
        keyMaterial += try ephemeral.sharedSecretFromKeyAgreement(with: bundle.signedPrekey.agreementKey).rawBytes
        if let oneTime = bundle.oneTimePrekey {
            let key = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: oneTime.publicKey)
            keyMaterial += try ephemeral.sharedSecretFromKeyAgreement(with: key).rawBytes
        }
        keyMaterial += secret
        keyMaterial += encapsulation.sharedSecret.bytes
        defer { wipe(&keyMaterial) }
        let transcriptHash = transcript.hash
        let sessionKey = HandshakeTranscript.sessionKey(inputKeyMaterial: keyMaterial, transcriptHash: transcriptHash)
        let ratchet = try DoubleRatchet.initiator(
            sharedSecret: sessionKey, remoteRatchetKey: bundle.signedPrekey.publicKey,
            associatedData: transcript.sessionAssociatedData(transcriptHash: transcriptHash), random: random
        )
        let pending = PendingPrekey(
            senderIdentity: identity.publicIdentity, senderSignedPrekey: signedPrekey.publicPrekey,
            recipientSignedPrekeyID: bundle.signedPrekey.id, recipientPostQuantumPrekeyID: bundle.postQuantumPrekey.id,
            recipientOneTimePrekeyID: bundle.oneTimePrekey?.id, ephemeralKey: transcript.ephemeralKey,
            wrappedSecret: wrappedSecret, kemCiphertext: transcript.kemCiphertext
        )
        return Session(
            ratchet: ratchet, pendingPrekey: pending, localFingerprint: identity.publicIdentity.fingerprint,
            remoteFingerprint: bundle.identity.fingerprint, baseKey: transcript.ephemeralKey
        )
    }

    /// Accepts a session started by `message`'s sender and decrypts its first payload. The caller
    /// looked up its prekeys by the ids in `message`, and deletes the one-time prekey afterwards.
    public static func accept(
        _ message: PrekeyMessage, identity: PrivateIdentity, signedPrekey: SignedPrekeyPair,
        postQuantumPrekey: PostQuantumPrekeyPair, oneTimePrekey: OneTimePrekeyPair?, random: some RandomSource
    ) throws(HandshakeError) -> (session: Session, payload: Payload) {
        guard message.recipientSignedPrekeyID == signedPrekey.publicPrekey.id,
              message.recipientPostQuantumPrekeyID == postQuantumPrekey.publicPrekey.id,
              message.recipientOneTimePrekeyID == oneTimePrekey?.publicPrekey.id else {
            throw .prekeyMismatch
        }
        let transcript = HandshakeTranscript(
            initiator: message.senderIdentity, responder: identity.publicIdentity,
            initiatorSignedPrekey: message.senderSignedPrekey, responderSignedPrekey: signedPrekey.publicPrekey,
            responderPostQuantumPrekey: postQuantumPrekey.publicPrekey, responderOneTimePrekey: oneTimePrekey?.publicPrekey,
            ephemeralKey: message.ephemeralKey, wrappedSecret: message.wrappedSecret, kemCiphertext: message.kemCiphertext
        )
        let transcriptHash = transcript.hash
        let sessionKey: SymmetricKey
        do {
            let ephemeral = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: message.ephemeralKey)
            var keyMaterial = try signedPrekey.privateKey.sharedSecretFromKeyAgreement(with: message.senderSignedPrekey.agreementKey).rawBytes
            keyMaterial += try signedPrekey.privateKey.sharedSecretFromKeyAgreement(with: ephemeral).rawBytes
            if let oneTime = oneTimePrekey {
                keyMaterial += try oneTime.privateKey.sharedSecretFromKeyAgreement(with: ephemeral).rawBytes
            }
            let secret = try identity.unwrap(message.wrappedSecret)
            guard secret.bitCount == 256 else { throw HandshakeError.cannotDecrypt }
            keyMaterial += secret.bytes
            keyMaterial += try postQuantumPrekey.privateKey.decapsulate(Data(message.kemCiphertext)).bytes
            sessionKey = HandshakeTranscript.sessionKey(inputKeyMaterial: keyMaterial, transcriptHash: transcriptHash)
            wipe(&keyMaterial)
        } catch {
            throw .cannotDecrypt
        }
        var session = Session(
            ratchet: .responder(
                sharedSecret: sessionKey, ownRatchetKey: signedPrekey.privateKey,
                associatedData: transcript.sessionAssociatedData(transcriptHash: transcriptHash)
            ),
            pendingPrekey: nil, localFingerprint: identity.publicIdentity.fingerprint,
            remoteFingerprint: message.senderIdentity.fingerprint, baseKey: message.ephemeralKey
        )
        do {
            let payload = try session.decrypt(.prekey(message), random: random)
            return (session, payload)
        } catch {
            throw .cannotDecrypt
        }
    }

    /// Encrypts one payload into the bytes of a `SessionEnvelope`.
    public mutating func encrypt(_ payload: Payload) throws -> [UInt8] {
        let message = try ratchet.encrypt(try payload.encoded())
        var envelope = WireSessionEnvelope()
        if let pendingPrekey {
            envelope.prekey = pendingPrekey.wire(carrying: message)
        } else {
            envelope.ratchet = message.wire
        }
        return envelope.encodedBytes
    }

    /// Decrypts one envelope of this session. A prekey envelope belongs here only when it
    /// carries this session's base key; one with another base key starts a new session
    /// (`Session.accept`). On any error the session is unchanged.
    public mutating func decrypt(_ envelope: SessionEnvelope, random: some RandomSource) throws(DecryptionError) -> Payload {
        let message: RatchetMessage
        switch envelope {
        case .prekey(let prekey):
            guard constantTimeEquals(prekey.ephemeralKey, baseKey),
                  prekey.senderIdentity.fingerprint == remoteFingerprint else { throw .cannotDecrypt }
            message = prekey.message
        case .ratchet(let ratchetMessage):
            message = ratchetMessage
        }
        var next = ratchet
        let plaintext = try next.decrypt(message, random: random)
        let payload = try Payload(decoding: plaintext)
        ratchet = next
        // Only the initiator has a pending prekey, and only the responder sends ratchet
        // messages to it: the first one proves the responder has the session.
        if case .ratchet = envelope { pendingPrekey = nil }
        return payload
    }
}

extension Session: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "Session(with: \(remoteFingerprint.shortID), \(ratchet), keys redacted)"
    }
    public var debugDescription: String { description }
}
