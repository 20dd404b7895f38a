import CipherWire
import Crypto
import Foundation

/// The public half of an X-Wing (ML-KEM-768 + X25519) prekey, checked against its owner's
/// identity (PROTOCOL.md 5.1).
public struct PostQuantumPrekey: Sendable, Hashable {
    public static let publicKeySize = 1216
    public static let ciphertextSize = 1120

    public let id: UInt32
    public let createdAt: UInt64
    public let publicKey: [UInt8]
    public let signature: [UInt8]

    public init(wire: WirePostQuantumPrekey, owner: PublicIdentity) throws(IdentityError) {
        guard Self.isValidPublicKey(wire.publicKey),
              (try? XWingMLKEM768X25519.PublicKey(rawRepresentation: wire.publicKey)) != nil else {
            throw .malformed("post-quantum prekey")
        }
        let statement = Self.statement(id: wire.id, createdAt: wire.createdAt, publicKey: Array(wire.publicKey))
        guard owner.isValidSignature(Array(wire.signature), over: statement) else {
            throw .badSignature("post-quantum prekey")
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

    public var wire: WirePostQuantumPrekey {
        var wire = WirePostQuantumPrekey()
        wire.id = id
        wire.createdAt = createdAt
        wire.publicKey = Data(publicKey)
        wire.signature = Data(signature)
        return wire
    }

    /// Whether `bytes` are an X-Wing public key (PROTOCOL.md 5.1): 1216 bytes, of which the
    /// first 1184 are an ML-KEM-768 encapsulation key that passes FIPS 203's modulus check
    /// (section 7.2: each of its 768 12-bit coefficients, packed two in three bytes in its first
    /// 1152 bytes, is below q = 3329), then any 32 bytes of X25519 public key. swift-crypto does
    /// not check the coefficients, and a key that fails makes every encapsulation to it fail:
    /// a relay that stored one would hand out a bundle no one can start a session with.
    static func isValidPublicKey(_ bytes: some Collection<UInt8>) -> Bool {
        guard bytes.count == publicKeySize else { return false }
        let packed = Array(bytes.prefix(1152))
        return stride(from: 0, to: packed.count, by: 3).allSatisfy { index in
            let first = UInt16(packed[index]) | UInt16(packed[index + 1] & 0x0F) << 8
            let second = UInt16(packed[index + 1] >> 4) | UInt16(packed[index + 2]) << 4
            return first < 3329 && second < 3329
        }
    }

    static func statement(id: UInt32, createdAt: UInt64, publicKey: [UInt8]) -> [UInt8] {
        SignedPrekeyEncoding.statement(label: Label.postQuantumPrekey, id: id, createdAt: createdAt, publicKey: publicKey)
    }

    /// How the prekey enters the handshake transcript.
    var canonicalBytes: [UInt8] {
        SignedPrekeyEncoding.canonicalBytes(id: id, createdAt: createdAt, publicKey: publicKey, signature: signature)
    }
}

/// An X-Wing prekey with its private half (the 32-byte X-Wing seed), kept by its owner.
public struct PostQuantumPrekeyPair: Sendable {
    public let publicPrekey: PostQuantumPrekey
    let privateKey: XWingMLKEM768X25519.PrivateKey

    public static func generate(
        id: UInt32, createdAt: UInt64, identity: PrivateIdentity, random: some RandomSource
    ) throws -> PostQuantumPrekeyPair {
        let privateKey = try XWingMLKEM768X25519.PrivateKey(seedRepresentation: random.bytes(32), publicKey: nil)
        let publicKey = Array(privateKey.publicKey.rawRepresentation)
        let signature = try identity.sign(PostQuantumPrekey.statement(id: id, createdAt: createdAt, publicKey: publicKey))
        return PostQuantumPrekeyPair(
            publicPrekey: PostQuantumPrekey(id: id, createdAt: createdAt, publicKey: publicKey, signature: signature),
            privateKey: privateKey
        )
    }

    public init(publicPrekey: PostQuantumPrekey, seed: [UInt8]) throws(IdentityError) {
        guard seed.count == 32,
              let key = try? XWingMLKEM768X25519.PrivateKey(seedRepresentation: seed, publicKey: nil),
              Array(key.publicKey.rawRepresentation) == publicPrekey.publicKey else {
            throw .malformed("post-quantum prekey seed")
        }
        self.publicPrekey = publicPrekey
        self.privateKey = key
    }

    init(publicPrekey: PostQuantumPrekey, privateKey: XWingMLKEM768X25519.PrivateKey) {
        self.publicPrekey = publicPrekey
        self.privateKey = privateKey
    }

    /// The 32-byte X-Wing seed, for the caller's sealed store. Handle as a secret.
    public var seed: [UInt8] { Array(privateKey.seedRepresentation) }
}

extension PostQuantumPrekeyPair: CustomStringConvertible {
    public var description: String { "PostQuantumPrekeyPair(id: \(publicPrekey.id), private key redacted)" }
}
