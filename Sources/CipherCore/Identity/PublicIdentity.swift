import CipherWire
import Crypto
import Foundation
import _CryptoExtras

/// A user's public identity: an RSA-PSS signing key, an RSA-OAEP encryption key, and the
/// signing key's certificate over the encryption key (PROTOCOL.md 4.1). A value of this type
/// has always been checked: both keys parse, are canonical DER and of a supported size, and the
/// certificate verifies.
public struct PublicIdentity: Sendable, Hashable {
    public let signingKeyDER: [UInt8]
    public let encryptionKeyDER: [UInt8]
    public let encryptionKeySignature: [UInt8]
    public let fingerprint: Fingerprint

    let signingKey: _RSA.Signing.PublicKey
    let encryptionKey: SendableBox<_RSA.Encryption.PublicKey>

    static let maxKeyDERSize = 1024
    static let maxSignatureSize = 512
    static let supportedKeySizes: Set<Int> = [2048, 3072, 4096]

    public init(signingKeyDER: [UInt8], encryptionKeyDER: [UInt8], encryptionKeySignature: [UInt8]) throws(IdentityError) {
        guard signingKeyDER.count <= Self.maxKeyDERSize, encryptionKeyDER.count <= Self.maxKeyDERSize else {
            throw .malformed("identity key")
        }
        // One key for both roles would let an OAEP decryption oracle become a signing oracle.
        guard signingKeyDER != encryptionKeyDER else { throw .malformed("identity (one key in both roles)") }
        guard encryptionKeySignature.count <= Self.maxSignatureSize else {
            throw .malformed("encryption key signature")
        }
        let signingKey: _RSA.Signing.PublicKey
        let encryptionKey: _RSA.Encryption.PublicKey
        do {
            signingKey = try _RSA.Signing.PublicKey(derRepresentation: signingKeyDER)
            encryptionKey = try _RSA.Encryption.PublicKey(derRepresentation: encryptionKeyDER)
        } catch {
            throw .malformed("identity key")
        }
        guard Self.supportedKeySizes.contains(signingKey.keySizeInBits),
              Self.supportedKeySizes.contains(encryptionKey.keySizeInBits) else {
            throw .unsupportedKeySize
        }
        // One key, one encoding, one fingerprint: a re-encoded key must not pass as another user.
        guard Array(signingKey.derRepresentation) == signingKeyDER,
              Array(encryptionKey.derRepresentation) == encryptionKeyDER else {
            throw .malformed("identity key (not canonical DER)")
        }
        let statement = Self.encryptionKeyStatement(signingKeyDER: signingKeyDER, encryptionKeyDER: encryptionKeyDER)
        guard signingKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: encryptionKeySignature), for: statement, padding: .PSS
        ) else {
            throw .badSignature("encryption key")
        }
        self.signingKeyDER = signingKeyDER
        self.encryptionKeyDER = encryptionKeyDER
        self.encryptionKeySignature = encryptionKeySignature
        self.signingKey = signingKey
        self.encryptionKey = SendableBox(encryptionKey)
        self.fingerprint = Fingerprint(signingKeyDER: signingKeyDER)
    }

    public init(wire: WirePublicIdentity) throws(IdentityError) {
        try self.init(
            signingKeyDER: Array(wire.signingKey),
            encryptionKeyDER: Array(wire.encryptionKey),
            encryptionKeySignature: Array(wire.encryptionKeySignature)
        )
    }

    public init(serialized bytes: some Collection<UInt8>) throws(IdentityError) {
        let wire: WirePublicIdentity
        do {
            wire = try WirePublicIdentity(boundedBytes: bytes, maxSize: 4096)
        } catch {
            throw .malformed("public identity")
        }
        try self.init(wire: wire)
    }

    public var wire: WirePublicIdentity {
        var wire = WirePublicIdentity()
        wire.signingKey = Data(signingKeyDER)
        wire.encryptionKey = Data(encryptionKeyDER)
        wire.encryptionKeySignature = Data(encryptionKeySignature)
        return wire
    }

    public var serialized: [UInt8] { wire.encodedBytes }

    /// `LP(signing SPKI) || LP(encryption SPKI) || LP(certificate)`: how an identity enters a
    /// transcript (PROTOCOL.md 4.1).
    var canonicalBytes: [UInt8] {
        var out = CanonicalBytes()
        out.field(signingKeyDER)
        out.field(encryptionKeyDER)
        out.field(encryptionKeySignature)
        return out.bytes
    }

    static func encryptionKeyStatement(signingKeyDER: [UInt8], encryptionKeyDER: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes(label: Label.encryptionKeyCertificate)
        out.field(signingKeyDER)
        out.field(encryptionKeyDER)
        return out.bytes
    }

    func isValidSignature(_ signature: [UInt8], over statement: [UInt8]) -> Bool {
        guard signature.count <= Self.maxSignatureSize else { return false }
        return signingKey.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: statement, padding: .PSS
        )
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.signingKeyDER == rhs.signingKeyDER && lhs.encryptionKeyDER == rhs.encryptionKeyDER
            && lhs.encryptionKeySignature == rhs.encryptionKeySignature
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(signingKeyDER)
        hasher.combine(encryptionKeyDER)
    }
}

extension PublicIdentity: CustomStringConvertible {
    public var description: String { "PublicIdentity(\(fingerprint.shortID))" }
}
