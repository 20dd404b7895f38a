import CipherWire
import Crypto
import Foundation

/// The public half of an X25519 signed prekey, checked against its owner's identity
/// (PROTOCOL.md 5.1).
public struct SignedPrekey: Sendable, Hashable {
    public let id: UInt32
    /// Seconds since the Unix epoch, as the owner's clock said when it made the key.
    public let createdAt: UInt64
    public let publicKey: [UInt8]
    public let signature: [UInt8]

    /// Checks the signature by `owner` and the key's length.
    public init(wire: WireSignedPrekey, owner: PublicIdentity) throws(IdentityError) {
        guard wire.publicKey.count == 32 else { throw .malformed("signed prekey") }
        let statement = Self.statement(id: wire.id, createdAt: wire.createdAt, publicKey: Array(wire.publicKey))
        guard owner.isValidSignature(Array(wire.signature), over: statement) else {
            throw .badSignature("signed prekey")
        }
        id = wire.id
        createdAt = wire.createdAt
        publicKey = Array(wire.publicKey)
        signature = Array(wire.signature)
    }

    init(id: UInt32, createdAt: UInt64, publicKey: [UInt8], signature: [UInt8]) {
        self.id = id
        self.createdAt = createdAt
        self.publicKey = publicKey
        self.signature = signature
    }

    public var wire: WireSignedPrekey {
        var wire = WireSignedPrekey()
        wire.id = id
        wire.createdAt = createdAt
        wire.publicKey = Data(publicKey)
        wire.signature = Data(signature)
        return wire
    }

    static func statement(id: UInt32, createdAt: UInt64, publicKey: [UInt8]) -> [UInt8] {
        SignedPrekeyEncoding.statement(label: Label.signedPrekey, id: id, createdAt: createdAt, publicKey: publicKey)
    }

    /// How the prekey enters the handshake transcript.
    var canonicalBytes: [UInt8] {
        SignedPrekeyEncoding.canonicalBytes(id: id, createdAt: createdAt, publicKey: publicKey, signature: signature)
    }

    var agreementKey: Curve25519.KeyAgreement.PublicKey {
        // The length was checked when the value was made, and every 32-byte string is an
        // X25519 public key.
        try! Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey)
    }
}

/// A signed prekey with its private half, kept by its owner.
public struct SignedPrekeyPair: Sendable {
    public let publicPrekey: SignedPrekey
    let privateKey: Curve25519.KeyAgreement.PrivateKey

    public static func generate(
        id: UInt32, createdAt: UInt64, identity: PrivateIdentity, random: some RandomSource
    ) throws -> SignedPrekeyPair {
        let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: random.bytes(32))
        let publicKey = Array(privateKey.publicKey.rawRepresentation)
        let signature = try identity.sign(SignedPrekey.statement(id: id, createdAt: createdAt, publicKey: publicKey))
        return SignedPrekeyPair(
            publicPrekey: SignedPrekey(id: id, createdAt: createdAt, publicKey: publicKey, signature: signature),
            privateKey: privateKey
        )
    }

    /// Restores a stored pair: the public half as published and the 32-byte private scalar.
    public init(publicPrekey: SignedPrekey, privateKeyBytes: [UInt8]) throws(IdentityError) {
        guard privateKeyBytes.count == 32,
              let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKeyBytes),
              Array(key.publicKey.rawRepresentation) == publicPrekey.publicKey else {
            throw .malformed("signed prekey private key")
        }
        self.publicPrekey = publicPrekey
        self.privateKey = key
    }

    init(publicPrekey: SignedPrekey, privateKey: Curve25519.KeyAgreement.PrivateKey) {
        self.publicPrekey = publicPrekey
        self.privateKey = privateKey
    }

    /// The private scalar, for the caller's sealed store. Handle as a secret.
    public var privateKeyBytes: [UInt8] { Array(privateKey.rawRepresentation) }

    /// Whether a prekey made at `createdAt` is due for replacement at `now` (both in seconds).
    public static func isDueForRotation(createdAt: UInt64, now: UInt64, interval: UInt64 = 7 * 86_400) -> Bool {
        now >= createdAt &+ interval || now < createdAt
    }
}

extension SignedPrekeyPair: CustomStringConvertible {
    public var description: String { "SignedPrekeyPair(id: \(publicPrekey.id), private key redacted)" }
}
