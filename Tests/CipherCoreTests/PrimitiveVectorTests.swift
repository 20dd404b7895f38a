import CipherCore
import Crypto
import Testing
import _CryptoExtras

/// Known-answer tests of the primitives the core composes, each against the vector published
/// with its specification, so that a swift-crypto upgrade or a change of backend that altered any
/// of them fails here, by name, before it fails as an unreadable handshake or ratchet mismatch.
/// Every hex constant was checked against its source and against a second implementation.
@Suite("Primitive known-answer vectors")
struct PrimitiveVectorTests {
    // MARK: HKDF-SHA256 (handshake session key, ratchet root chain, sealing and message keys)

    /// RFC 5869 appendix A.1, "Test Case 1": basic test case with SHA-256.
    @Test("HKDF-SHA256: RFC 5869 test case 1 (extract, expand, and both at once)")
    func hkdfSHA256() throws {
        let inputKeyMaterial = SymmetricKey(data: try Self.hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"))
        let salt = try Self.hex("000102030405060708090a0b0c")
        let info = try Self.hex("f0f1f2f3f4f5f6f7f8f9")
        let expectedPRK = try Self.hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        let expectedOKM = try Self.hex(
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        )

        let prk = HKDF<SHA256>.extract(inputKeyMaterial: inputKeyMaterial, salt: salt)
        #expect(Array(prk) == expectedPRK)

        let okm = HKDF<SHA256>.deriveKey(inputKeyMaterial: inputKeyMaterial, salt: salt, info: info, outputByteCount: 42)
        #expect(Self.bytes(of: okm) == expectedOKM)

        // The core also runs Expand alone on a key it already holds (sealing keys, message keys).
        let expanded = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: info, outputByteCount: 42)
        #expect(Self.bytes(of: expanded) == expectedOKM)
    }

    // MARK: HMAC-SHA256 (the symmetric chain step)

    struct HMACVector: Sendable, CustomTestStringConvertible {
        let name: String
        let key: String
        let data: [UInt8]
        let mac: String
        var testDescription: String { name }
    }

    /// RFC 4231 section 4.2 ("Test Case 1") and section 4.3 ("Test Case 2"), HMAC-SHA-256 output.
    @Test("HMAC-SHA256: RFC 4231 test cases 1 and 2", arguments: [
        HMACVector(
            name: "RFC 4231 test case 1", key: "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
            data: Array("Hi There".utf8),
            mac: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        ),
        HMACVector(
            name: "RFC 4231 test case 2", key: "4a656665", // "Jefe"
            data: Array("what do ya want for nothing?".utf8),
            mac: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        ),
    ])
    func hmacSHA256(vector: HMACVector) throws {
        let key = SymmetricKey(data: try Self.hex(vector.key))
        let expected = try Self.hex(vector.mac)
        let mac = HMAC<SHA256>.authenticationCode(for: vector.data, using: key)
        #expect(Array(mac) == expected)
    }

    // MARK: X25519 (prekey agreement and the DH ratchet)

    struct X25519Vector: Sendable, CustomTestStringConvertible {
        let name: String
        let scalar: String
        let uCoordinate: String
        let output: String
        var testDescription: String { name }
    }

    /// RFC 7748 section 5.2, the two single-multiplication vectors. The RFC gives raw scalars and
    /// X25519 clamps them itself (decodeScalar25519), which is what swift-crypto's private key
    /// does with its raw representation. The second input u-coordinate has its top bit set, which
    /// X25519 must mask (section 5), so that vector also checks the masking.
    @Test("X25519: RFC 7748 section 5.2 scalar multiplications", arguments: [
        X25519Vector(
            name: "RFC 7748 5.2 vector 1",
            scalar: "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
            uCoordinate: "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
            output: "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
        ),
        X25519Vector(
            name: "RFC 7748 5.2 vector 2",
            scalar: "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
            uCoordinate: "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
            output: "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"
        ),
    ])
    func x25519ScalarMultiplication(vector: X25519Vector) throws {
        let expected = try Self.hex(vector.output)
        let output = try Self.x25519(scalar: Self.hex(vector.scalar), uCoordinate: Self.hex(vector.uCoordinate))
        #expect(output == expected)
    }

    /// RFC 7748 section 5.2, the iterated test: k = u = 9, then k, u = X25519(k, u), k. The RFC
    /// gives the result after 1 and after 1,000 iterations (the 1,000,000 one is too slow here).
    @Test("X25519: RFC 7748 section 5.2 iterated, 1 and 1,000 times")
    func x25519Iterated() throws {
        var scalar = [UInt8](repeating: 0, count: 32)
        scalar[0] = 9
        var uCoordinate = scalar
        var afterOne: [UInt8] = []
        for iteration in 1...1000 {
            let next = try Self.x25519(scalar: scalar, uCoordinate: uCoordinate)
            uCoordinate = scalar
            scalar = next
            if iteration == 1 { afterOne = scalar }
        }
        let expectedAfterOne = try Self.hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")
        let expectedAfterThousand = try Self.hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51")
        #expect(afterOne == expectedAfterOne)
        #expect(scalar == expectedAfterThousand)
    }

    /// RFC 7748 section 6.1: Alice's and Bob's key pairs and their shared secret K.
    @Test("X25519: RFC 7748 section 6.1 Diffie-Hellman between Alice and Bob")
    func x25519DiffieHellman() throws {
        let alicePrivate = try Curve25519.KeyAgreement.PrivateKey(
            rawRepresentation: Self.hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
        )
        let bobPrivate = try Curve25519.KeyAgreement.PrivateKey(
            rawRepresentation: Self.hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
        )
        let alicePublic = try Self.hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
        let bobPublic = try Self.hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
        #expect(Array(alicePrivate.publicKey.rawRepresentation) == alicePublic)
        #expect(Array(bobPrivate.publicKey.rawRepresentation) == bobPublic)

        let expected = try Self.hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        let aliceSide = try alicePrivate.sharedSecretFromKeyAgreement(with: bobPrivate.publicKey)
        let bobSide = try bobPrivate.sharedSecretFromKeyAgreement(with: alicePrivate.publicKey)
        // Compared as byte arrays: a SharedSecret's description is the secret itself.
        #expect(aliceSide.withUnsafeBytes { Array($0) } == expected)
        #expect(bobSide.withUnsafeBytes { Array($0) } == expected)
    }

    // MARK: Ed25519 (group message signatures)

    /// RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72). Only
    /// verification is checked: CryptoKit on Apple platforms randomises Ed25519 signing.
    @Test("Ed25519: RFC 8032 section 7.1 tests 1 and 2", arguments: [
        (
            secret: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            message: "",
            signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        ),
        (
            secret: "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            publicKey: "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            message: "72",
            signature: "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        ),
    ])
    func ed25519(vector: (secret: String, publicKey: String, message: String, signature: String)) throws {
        let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: Self.hex(vector.secret))
        let expectedPublicKey = try Self.hex(vector.publicKey)
        #expect(Array(privateKey.publicKey.rawRepresentation) == expectedPublicKey)

        let message = try Self.hex(vector.message)
        var signature = try Self.hex(vector.signature)
        #expect(privateKey.publicKey.isValidSignature(signature, for: message))
        signature[0] ^= 0x01
        #expect(!privateKey.publicKey.isValidSignature(signature, for: message))
    }

    // MARK: Passphrase KDFs (SealedContainer)

    /// RFC 7914 section 12, the first two scrypt vectors. The first has an empty passphrase and
    /// salt, an input the core can be handed if a user picks an empty passphrase.
    @Test("scrypt: RFC 7914 section 12 vectors 1 and 2", arguments: [
        (
            passphrase: "", salt: "", logN: 4, r: 1, p: 1,
            key: "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        ),
        (
            passphrase: "password", salt: "NaCl", logN: 10, r: 8, p: 16,
            key: "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        ),
    ])
    func scrypt(vector: (passphrase: String, salt: String, logN: Int, r: Int, p: Int, key: String)) throws {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(vector.passphrase.utf8), salt: Array(vector.salt.utf8), outputByteCount: 64,
            rounds: 1 << vector.logN, blockSize: vector.r, parallelism: vector.p
        )
        let expected = try Self.hex(vector.key)
        #expect(Self.bytes(of: key) == expected)
    }

    /// RFC 7914 section 11, the PBKDF2-HMAC-SHA256 vectors (c = 1 and c = 80,000). Both are below
    /// swift-crypto's 210,000-round floor for `rounds:`, hence `unsafeUncheckedRounds:`; the core
    /// itself requires 600,000 (`PassphraseKDF.minimumPBKDF2Rounds`).
    @Test("PBKDF2-HMAC-SHA256: RFC 7914 section 11", arguments: [
        (
            passphrase: "passwd", salt: "salt", rounds: 1,
            key: "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        ),
        (
            passphrase: "Password", salt: "NaCl", rounds: 80_000,
            key: "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        ),
    ])
    func pbkdf2SHA256(vector: (passphrase: String, salt: String, rounds: Int, key: String)) throws {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(vector.passphrase.utf8), salt: Array(vector.salt.utf8), using: .sha256,
            outputByteCount: 64, unsafeUncheckedRounds: vector.rounds
        )
        let expected = try Self.hex(vector.key)
        #expect(Self.bytes(of: key) == expected)
    }

    // MARK: AES-256-GCM (every message, file chunk and sealed container)

    /// McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", appendix B, Test Case 16:
    /// 256-bit key, 96-bit IV, 60-byte plaintext, 20-byte additional data.
    @Test("AES-256-GCM: GCM specification test case 16 (with associated data)")
    func aes256GCMWithAssociatedData() throws {
        let key = SymmetricKey(data: try Self.hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"))
        let nonce = try AES.GCM.Nonce(data: Self.hex("cafebabefacedbaddecaf888"))
        let plaintext = try Self.hex(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                + "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        )
        let associatedData = try Self.hex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
        let expectedCiphertext = try Self.hex(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
                + "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        )
        let expectedTag = try Self.hex("76fc6ece0f4e1768cddf8853bb2d551b")

        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: associatedData)
        #expect(Array(box.ciphertext) == expectedCiphertext)
        #expect(Array(box.tag) == expectedTag)

        let published = try AES.GCM.SealedBox(nonce: nonce, ciphertext: expectedCiphertext, tag: expectedTag)
        let opened = try AES.GCM.open(published, using: key, authenticating: associatedData)
        #expect(Array(opened) == plaintext)

        // The associated data is authenticated: one changed bit of it and the box does not open.
        // Only the type is checked: CryptoKit reports `.authenticationFailure`, but swift-crypto's
        // BoringSSL backend (Linux) reports the same failure as `.underlyingCoreCryptoError`.
        var alteredData = associatedData
        alteredData[alteredData.count - 1] ^= 0x01
        #expect(throws: CryptoKitError.self) {
            try AES.GCM.open(published, using: key, authenticating: alteredData)
        }
    }

    /// The same paper, appendix B, Test Case 14: all-zero 256-bit key and IV, one zero block,
    /// no associated data (the form of a STREAM file chunk).
    @Test("AES-256-GCM: GCM specification test case 14 (no associated data)")
    func aes256GCMWithoutAssociatedData() throws {
        let key = SymmetricKey(data: [UInt8](repeating: 0, count: 32))
        let nonce = try AES.GCM.Nonce(data: [UInt8](repeating: 0, count: 12))
        let expectedCiphertext = try Self.hex("cea7403d4d606b6e074ec5d3baf39d18")
        let expectedTag = try Self.hex("d0d1c8a799996bf0265b98b5d48ab919")
        let box = try AES.GCM.seal([UInt8](repeating: 0, count: 16), using: key, nonce: nonce)
        #expect(Array(box.ciphertext) == expectedCiphertext)
        #expect(Array(box.tag) == expectedTag)
    }

    // MARK: Helpers

    private static func hex(_ text: String) throws -> [UInt8] {
        try #require(Hex.decode(text), "not a hex string: \(text)")
    }

    private static func bytes(of key: SymmetricKey) -> [UInt8] {
        key.withUnsafeBytes { Array($0) }
    }

    /// X25519(scalar, u) through swift-crypto's key agreement API.
    private static func x25519(scalar: [UInt8], uCoordinate: [UInt8]) throws -> [UInt8] {
        let privateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: scalar)
        let publicKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: uCoordinate)
        return try privateKey.sharedSecretFromKeyAgreement(with: publicKey).withUnsafeBytes { Array($0) }
    }
}
