import Crypto
import Foundation
import _CryptoExtras

/// One swift-crypto operation that the handshake or the ratchet is built from, timed alone so
/// that the protocol figures can be explained by their parts.
struct PrimitiveFigure: Codable, Sendable {
    var name: String
    var medianMicroseconds: Double
    var samples: Int
}

enum PrimitiveBench {
    /// RSA keys made once: the bench times operations with them, not their generation.
    struct Keys {
        let signing: _RSA.Signing.PrivateKey
        let encryption: _RSA.Encryption.PrivateKey
    }

    static func run(keys: Keys, limits: RunLimits) throws -> [PrimitiveFigure] {
        let message = [UInt8](repeating: 0x42, count: 256)
        let secret = [UInt8](repeating: 0x17, count: 32)
        let signature = try keys.signing.signature(for: message, padding: .PSS)
        let wrapped = try keys.encryption.publicKey.encrypt(secret, padding: .PKCS1_OAEP_SHA256)
        let x25519 = Curve25519.KeyAgreement.PrivateKey()
        let x25519Peer = Curve25519.KeyAgreement.PrivateKey().publicKey.rawRepresentation
        let xwing = try XWingMLKEM768X25519.PrivateKey.generate()
        let xwingPublic = xwing.publicKey.rawRepresentation
        let encapsulated = try xwing.publicKey.encapsulate().encapsulated
        let symmetricKey = SymmetricKey(size: .bits256)
        let chunk = [UInt8](repeating: 0x33, count: 64 << 10)
        let keyedHMAC = HMAC<SHA256>(key: symmetricKey)
        let nonce = AES.GCM.Nonce()
        let sealed = try AES.GCM.seal(message, using: symmetricKey, nonce: nonce)

        let cases: [(name: String, operationsPerSample: Int, body: () throws -> Void)] = [
            ("RSA-2048 PSS sign (private key)", 4, { blackHole(try keys.signing.signature(for: message, padding: .PSS)) }),
            ("RSA-2048 OAEP decrypt (private key)", 4, { blackHole(try keys.encryption.decrypt(wrapped, padding: .PKCS1_OAEP_SHA256)) }),
            ("RSA-2048 PSS verify", 32, { blackHole(keys.signing.publicKey.isValidSignature(signature, for: message, padding: .PSS)) }),
            ("RSA-2048 OAEP encrypt", 32, { blackHole(try keys.encryption.publicKey.encrypt(secret, padding: .PKCS1_OAEP_SHA256)) }),
            ("X25519 agreement (with key parse)", 64, {
                let peer = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: x25519Peer)
                blackHole(try x25519.sharedSecretFromKeyAgreement(with: peer))
            }),
            ("X-Wing encapsulate (with key parse)", 32, {
                blackHole(try XWingMLKEM768X25519.PublicKey(rawRepresentation: xwingPublic).encapsulate())
            }),
            ("X-Wing decapsulate", 32, { blackHole(try xwing.decapsulate(encapsulated)) }),
            ("HMAC-SHA256 one-shot (32 B key, 1 B)", 1024, {
                blackHole(HMAC<SHA256>.authenticationCode(for: [0x01], using: symmetricKey))
            }),
            // ChainKey.step's way: the key schedule done once, the keyed state copied per MAC.
            ("HMAC-SHA256 from a copied keyed state (1 B)", 1024, {
                var mac = keyedHMAC
                mac.update(data: [0x01])
                blackHole(mac.finalize())
            }),
            ("HKDF-SHA256 expand (44 B)", 1024, {
                blackHole(HKDF<SHA256>.expand(pseudoRandomKey: symmetricKey, info: [0x61, 0x62], outputByteCount: 44))
            }),
            ("AES-256-GCM seal (256 B, given nonce)", 1024, {
                blackHole(try AES.GCM.seal(message, using: symmetricKey, nonce: nonce))
            }),
            ("AES-256-GCM open (256 B)", 1024, { blackHole(try AES.GCM.open(sealed, using: symmetricKey)) }),
            ("SHA-256 of 64 KiB", 16, { blackHole(SHA256.hash(data: chunk)) }),
            ("SystemRandomNumberGenerator, 16 B", 1024, {
                var generator = SystemRandomNumberGenerator()
                blackHole((generator.next() as UInt64, generator.next() as UInt64))
            }),
        ]
        return try cases.map { item in
            var samples = SampleSet()
            try limits.run {
                samples.append(try timeBatch(operations: item.operationsPerSample, item.body), operations: item.operationsPerSample)
            }
            return PrimitiveFigure(name: item.name, medianMicroseconds: samples.median * 1e6, samples: samples.count)
        }
    }
}
