import Crypto

/// Every public value of a session's start, in one fixed order (PROTOCOL.md 5.4). Its SHA-256
/// is bound into the session key and into every message's associated data, so a change to any
/// of them (a swapped identity, prekey or ciphertext) gives both sides different keys.
struct HandshakeTranscript {
    let initiator: PublicIdentity
    let responder: PublicIdentity
    let initiatorSignedPrekey: SignedPrekey
    let responderSignedPrekey: SignedPrekey
    let responderPostQuantumPrekey: PostQuantumPrekey
    let responderOneTimePrekey: OneTimePrekey?
    let ephemeralKey: [UInt8]
    let wrappedSecret: [UInt8]
    let kemCiphertext: [UInt8]

    var hash: [UInt8] {
        var out = CanonicalBytes(label: Label.handshakeTranscript)
        out.field(initiator.canonicalBytes)
        out.field(responder.canonicalBytes)
        out.field(initiatorSignedPrekey.canonicalBytes)
        out.field(responderSignedPrekey.canonicalBytes)
        out.field(responderPostQuantumPrekey.canonicalBytes)
        if let oneTime = responderOneTimePrekey {
            var prekey = CanonicalBytes()
            prekey.uint32(oneTime.id)
            prekey.field(oneTime.publicKey)
            out.field(prekey.bytes)
        } else {
            out.field([])
        }
        out.field(ephemeralKey)
        out.field(wrappedSecret)
        out.field(kemCiphertext)
        return Array(SHA256.hash(data: out.bytes))
    }

    /// SK = HKDF-SHA256(ikm: DH1 || DH2 || [DH3] || S || KEM secret, salt: 32 zero bytes,
    /// info: LP("cipherchat/v1/session") || transcript hash, 32 bytes).
    static func sessionKey(inputKeyMaterial: [UInt8], transcriptHash: [UInt8]) -> SymmetricKey {
        var info = CanonicalBytes(label: Label.sessionKey)
        info.raw(transcriptHash)
        return HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: [UInt8](repeating: 0, count: 32),
            info: info.bytes, outputByteCount: 32
        )
    }

    /// fingerprint(initiator) || fingerprint(responder) || transcript hash: 96 bytes.
    func sessionAssociatedData(transcriptHash: [UInt8]) -> [UInt8] {
        initiator.fingerprint.bytes + responder.fingerprint.bytes + transcriptHash
    }
}

extension SharedSecret {
    /// The raw agreement output, for concatenation into key material. Never print a
    /// SharedSecret: its description is the secret in hex.
    var rawBytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
