import CipherWire
import Crypto
import Foundation
import _CryptoExtras

/// A user's private identity: the RSA signing and encryption private keys. It leaves memory only
/// sealed under the passphrase (`SealedContainer`); its description never shows key material.
public struct PrivateIdentity: Sendable {
    public enum KeySize: Int, Sendable, CaseIterable {
        case bits2048 = 2048
        case bits3072 = 3072
        case bits4096 = 4096

        var rsaKeySize: _RSA.Signing.KeySize {
            switch self {
            case .bits2048: .bits2048
            case .bits3072: .bits3072
            case .bits4096: .bits4096
            }
        }
    }

    let signingKey: _RSA.Signing.PrivateKey
    let encryptionKey: SendableBox<_RSA.Encryption.PrivateKey>
    public let publicIdentity: PublicIdentity

    /// Generates both RSA keys. BoringSSL draws their randomness itself: swift-crypto offers no
    /// way to pass a random source into RSA key generation.
    public static func generate(keySize: KeySize = .bits2048) throws -> PrivateIdentity {
        let signingKey = try _RSA.Signing.PrivateKey(keySize: keySize.rsaKeySize)
        let encryptionKey = try _RSA.Encryption.PrivateKey(keySize: keySize.rsaKeySize)
        return try PrivateIdentity(signingKey: signingKey, encryptionKey: encryptionKey)
    }

    /// Makes the identity, certifying the encryption key now unless a certificate made earlier
    /// is given. RSA-PSS signatures are randomised, so an identity's certificate (and with it
    /// the public identity's bytes) is fixed once, when it is first made, and stored after.
    init(
        signingKey: _RSA.Signing.PrivateKey, encryptionKey: _RSA.Encryption.PrivateKey,
        certificate: [UInt8]? = nil
    ) throws {
        let signingDER = Array(signingKey.publicKey.derRepresentation)
        let encryptionDER = Array(encryptionKey.publicKey.derRepresentation)
        let statement = PublicIdentity.encryptionKeyStatement(signingKeyDER: signingDER, encryptionKeyDER: encryptionDER)
        let signature = try certificate ?? Array(signingKey.signature(for: statement, padding: .PSS).rawRepresentation)
        self.signingKey = signingKey
        self.encryptionKey = SendableBox(encryptionKey)
        self.publicIdentity = try PublicIdentity(
            signingKeyDER: signingDER, encryptionKeyDER: encryptionDER, encryptionKeySignature: signature
        )
    }

    /// Loads an identity from two PEM private keys (PKCS#1 or PKCS#8), as produced by
    /// `openssl genpkey -algorithm RSA`, with the encryption-key certificate made when the
    /// identity was first created (nil: certify now).
    public init(signingKeyPEM: String, encryptionKeyPEM: String, certificate: [UInt8]? = nil) throws {
        try self.init(
            signingKey: _RSA.Signing.PrivateKey(pemRepresentation: signingKeyPEM),
            encryptionKey: _RSA.Encryption.PrivateKey(pemRepresentation: encryptionKeyPEM),
            certificate: certificate
        )
    }

    /// The stored form (a `WirePrivateIdentity`), to be sealed before it touches a disk.
    public func serialized() -> [UInt8] {
        var wire = WirePrivateIdentity()
        wire.version = 1
        wire.signingKeyDer = signingKey.derRepresentation
        wire.encryptionKeyDer = encryptionKey.value.derRepresentation
        wire.encryptionKeySignature = Data(publicIdentity.encryptionKeySignature)
        return wire.encodedBytes
    }

    public init(serialized bytes: some Collection<UInt8>) throws(IdentityError) {
        let wire: WirePrivateIdentity
        do {
            wire = try WirePrivateIdentity(boundedBytes: bytes, maxSize: 16 * 1024)
        } catch {
            throw .malformed("private identity")
        }
        guard wire.version == 1 else { throw .malformed("private identity (unknown version)") }
        let signingKey: _RSA.Signing.PrivateKey
        let encryptionKey: _RSA.Encryption.PrivateKey
        do {
            signingKey = try _RSA.Signing.PrivateKey(derRepresentation: wire.signingKeyDer)
            encryptionKey = try _RSA.Encryption.PrivateKey(derRepresentation: wire.encryptionKeyDer)
        } catch {
            throw .malformed("private identity key")
        }
        let publicIdentity = try PublicIdentity(
            signingKeyDER: Array(signingKey.publicKey.derRepresentation),
            encryptionKeyDER: Array(encryptionKey.publicKey.derRepresentation),
            encryptionKeySignature: Array(wire.encryptionKeySignature)
        )
        self.signingKey = signingKey
        self.encryptionKey = SendableBox(encryptionKey)
        self.publicIdentity = publicIdentity
    }

    /// RSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) over `statement`.
    func sign(_ statement: [UInt8]) throws -> [UInt8] {
        Array(try signingKey.signature(for: statement, padding: .PSS).rawRepresentation)
    }

    /// RSA-OAEP (SHA-256, MGF1-SHA-256, empty label) decryption of a wrapped secret.
    func unwrap(_ wrapped: [UInt8]) throws -> SymmetricKey {
        SymmetricKey(data: try encryptionKey.value.decrypt(wrapped, padding: .PKCS1_OAEP_SHA256))
    }
}

extension PrivateIdentity: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "PrivateIdentity(\(publicIdentity.fingerprint.shortID), keys redacted)" }
    public var debugDescription: String { description }
}
