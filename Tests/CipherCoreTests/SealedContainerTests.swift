import CipherCore
import CipherTesting
import Crypto
import Testing
import _CryptoExtras

/// `SealedContainer`: secrets at rest under a passphrase. Scrypt runs at logN 10 (N = 1024)
/// throughout, except in the one test of the default parameters.
@Suite("Sealed container")
struct SealedContainerTests {
    static let passphrase = "correct horse battery staple"
    static let context = "cipherchat/test/sealed-container"
    static let cheapScrypt = PassphraseKDF.scrypt(logN: 10, r: 8, p: 1)
    static let secret = Array("an identity's private keys, say".utf8)

    // MARK: Round trips

    @Test("seal then open gives the plaintext back", arguments: [0, 1, 31, 4096])
    func roundTrip(plaintextSize: Int) throws {
        let plaintext = SeededRandomSource(seed: "plaintext").bytes(plaintextSize)
        let container = try Self.seal(plaintext, seed: "round trip \(plaintextSize)")
        #expect(container.count == SealedLayout.scryptOverhead + plaintextSize)
        #expect(try SealedContainer.kdfParameters(of: container) == Self.cheapScrypt)
        #expect(try SealedContainer.open(container, passphrase: Self.passphrase, context: Self.context) == plaintext)
    }

    @Test("a passphrase outside ASCII round-trips")
    func nonASCIIPassphrase() throws {
        let passphrase = "pässwörd 🔑 パスワード"
        let container = try SealedContainer.seal(
            Self.secret, passphrase: passphrase, context: Self.context, kdf: Self.cheapScrypt,
            random: SeededRandomSource(seed: "non-ASCII")
        )
        #expect(try SealedContainer.open(container, passphrase: passphrase, context: Self.context) == Self.secret)
    }

    /// Built by hand from the layout in PROTOCOL.md 4.3, with the same random bytes (salt first,
    /// then nonce): `seal` must produce exactly this.
    @Test("seal writes exactly the documented layout")
    func documentedLayout() throws {
        let container = try Self.seal(Self.secret, seed: "layout")
        let random = SeededRandomSource(seed: "layout")
        let salt = random.bytes(16)
        let nonce = random.bytes(12)
        let handBuilt = try SealedLayout.scryptContainer(
            plaintext: Self.secret, passphrase: Self.passphrase, context: Self.context,
            logN: 10, r: 8, p: 1, salt: salt, nonce: nonce
        )
        #expect(container == handBuilt)
    }

    /// One test at the default cost (N = 2^17, 128 MiB): about a second per derivation here.
    @Test("the default parameters are scrypt N = 2^17, r = 8, p = 1, and their containers open")
    func defaultParameters() throws {
        #expect(PassphraseKDF.defaultScrypt == .scrypt(logN: 17, r: 8, p: 1))
        let container = try SealedContainer.seal(
            Self.secret, passphrase: Self.passphrase, context: Self.context, random: SeededRandomSource(seed: "default")
        )
        #expect(try SealedContainer.kdfParameters(of: container) == .defaultScrypt)
        #expect(try SealedContainer.open(container, passphrase: Self.passphrase, context: Self.context) == Self.secret)
    }

    // MARK: Wrong passphrase, wrong context

    @Test("a wrong passphrase is reported as .wrongPassphrase", arguments: [
        "correct horse battery stapler", "Correct horse battery staple", "correct horse battery staple ", "",
    ])
    func wrongPassphrase(passphrase: String) throws {
        let container = try Self.seal(Self.secret, seed: "wrong passphrase")
        #expect(throws: SealError.wrongPassphrase) {
            try SealedContainer.open(container, passphrase: passphrase, context: Self.context)
        }
    }

    /// The context is associated data: the passphrase is right (the check value matches), so
    /// the container is reported as damaged, not the passphrase as wrong.
    @Test("opening under another context fails as .corrupted")
    func differentContext() throws {
        let container = try Self.seal(Self.secret, seed: "context")
        for context in ["cipherchat/test/other", "", Self.context + " "] {
            #expect(throws: SealError.corrupted) {
                try SealedContainer.open(container, passphrase: Self.passphrase, context: context)
            }
        }
    }

    // MARK: Accidental damage

    /// The trailing SHA-256 covers every byte before it and every byte of it is compared, so
    /// any single-byte change is damage, found before any key derivation: never
    /// .wrongPassphrase, even in the salt, check value or KDF parameters.
    @Test("every single-byte change, at every position, is .corrupted")
    func everySingleByteChange() throws {
        let container = try Self.seal(Array("short".utf8), seed: "byte changes")
        var failures: [String] = []
        for position in container.indices {
            for mask: UInt8 in [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xFF] {
                var damaged = container
                damaged[position] ^= mask
                let error = Self.openError(damaged)
                if error != .corrupted {
                    failures.append("byte \(position) ^ \(mask): \(String(describing: error))")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) changes: \(failures.prefix(5))")
    }

    @Test("every truncation, from either end, is .corrupted")
    func truncation() throws {
        let container = try Self.seal(Array("short".utf8), seed: "truncation")
        var failures: [String] = []
        for length in 0..<container.count {
            if Self.openError(Array(container.prefix(length))) != .corrupted { failures.append("first \(length) bytes") }
            if Self.openError(Array(container.suffix(length))) != .corrupted { failures.append("last \(length) bytes") }
        }
        #expect(failures.isEmpty, "\(failures.count) truncations: \(failures.prefix(5))")
    }

    @Test("appended bytes are .corrupted, even with a checksum recomputed over them")
    func appendedBytes() throws {
        let container = try Self.seal(Array("short".utf8), seed: "append")
        for count in [1, 15, 16, 31, 32, 33, 100] {
            let appended = container + [UInt8](repeating: 0x5A, count: count)
            #expect(Self.openError(appended) == .corrupted, "\(count) bytes appended")
        }
        // Someone who recomputes the checksum gets past it, and then the AEAD fails.
        let extended = SealedLayout.withChecksumRecomputed(container + [UInt8](repeating: 0, count: 32))
        #expect(Self.openError(extended) == .corrupted)
        #expect(throws: SealError.corrupted) { try SealedContainer.kdfParameters(of: Array(container.dropLast(1)) + [0]) }
    }

    // MARK: Deliberate tampering

    /// With the checksum recomputed, a change reaches the parser and the key derivation, and the
    /// answer depends on where it lies: the header identifies the format, the KDF parameters
    /// are range-checked, the salt and check value decide the passphrase check, and the AEAD
    /// covers the rest. (That an altered salt reads as a wrong passphrase is inherent: the
    /// checksum is unkeyed and the check value depends on the salt.)
    @Test("a bit flipped before a recomputed checksum gives the error of the field it lands in")
    func tamperingWithRecomputedChecksum() throws {
        let container = try Self.seal(Array("short".utf8), seed: "tampering")
        var failures: [String] = []
        for position in 0..<container.count - SealedLayout.checksumSize {
            var tampered = container
            tampered[position] ^= 0x01
            let error = Self.openError(SealedLayout.withChecksumRecomputed(tampered))
            let expected = SealedLayout.errorAfterFlippingLowBit(at: position)
            if error != expected {
                failures.append("byte \(position): \(String(describing: error)), expected \(expected)")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) positions: \(failures.prefix(5))")
    }

    // MARK: KDF parameters

    @Test("PBKDF2-HMAC-SHA256 containers with 600,000 rounds open; one round fewer is refused")
    func pbkdf2() throws {
        let kdf = PassphraseKDF.pbkdf2SHA256(rounds: PassphraseKDF.minimumPBKDF2Rounds)
        #expect(kdf == .pbkdf2SHA256(rounds: 600_000))
        let container = try Self.seal(Self.secret, kdf: kdf, seed: "pbkdf2")
        #expect(container.count == SealedLayout.pbkdf2Overhead + Self.secret.count)
        #expect(try SealedContainer.kdfParameters(of: container) == kdf)
        #expect(try SealedContainer.open(container, passphrase: Self.passphrase, context: Self.context) == Self.secret)
        #expect(throws: SealError.wrongPassphrase) {
            try SealedContainer.open(container, passphrase: "not it", context: Self.context)
        }

        // A file claiming fewer rounds (or absurdly many) is refused before deriving: had it
        // derived, 599,999 rounds would give another check value, so .wrongPassphrase.
        for rounds: UInt32 in [599_999, 1, 0, 100_000_001, .max] {
            var patched = container
            patched.replaceSubrange(SealedLayout.pbkdf2Rounds, with: SealedLayout.bigEndian(rounds))
            patched = SealedLayout.withChecksumRecomputed(patched)
            #expect(try SealedContainer.kdfParameters(of: patched) == .pbkdf2SHA256(rounds: rounds))
            #expect(Self.openError(patched) == .unsupportedParameters, "\(rounds) rounds")
        }
    }

    @Test("sealing with PBKDF2 below 600,000 rounds is refused", arguments: [599_999, 210_000, 1, 0] as [UInt32])
    func pbkdf2BelowMinimumIsNotSealed(rounds: UInt32) {
        #expect(throws: SealError.unsupportedParameters) {
            try Self.seal(Self.secret, kdf: .pbkdf2SHA256(rounds: rounds), seed: "weak pbkdf2")
        }
    }

    struct ScryptParameters: Sendable, CustomTestStringConvertible {
        let logN: UInt8
        let r: UInt32
        let p: UInt32
        let why: String
        var testDescription: String { "logN \(logN), r \(r), p \(p): \(why)" }
    }

    /// The file's KDF parameters are checked before anything is derived. For logN 30 (128 GiB)
    /// BoringSSL would fail the allocation anyway, so the refusal and its speed are what can be
    /// checked; the cheap out-of-range sets show that no derivation ran, since deriving with
    /// them would give another check value and so .wrongPassphrase.
    @Test("hostile scrypt parameters are refused, when sealing and when opening, without deriving", arguments: [
        ScryptParameters(logN: 30, r: 8, p: 1, why: "128 GiB"),
        ScryptParameters(logN: 255, r: 8, p: 1, why: "N past any integer"),
        ScryptParameters(logN: 9, r: 8, p: 1, why: "below the minimum cost"),
        ScryptParameters(logN: 25, r: 8, p: 1, why: "above logN 24"),
        ScryptParameters(logN: 10, r: 0, p: 1, why: "r = 0"),
        ScryptParameters(logN: 10, r: 65, p: 1, why: "r above 64"),
        ScryptParameters(logN: 10, r: .max, p: 1, why: "r = 2^32 - 1"),
        ScryptParameters(logN: 10, r: 8, p: 0, why: "p = 0"),
        ScryptParameters(logN: 10, r: 8, p: 17, why: "p above 16"),
        ScryptParameters(logN: 10, r: 8, p: .max, why: "p = 2^32 - 1"),
        ScryptParameters(logN: 17, r: 8, p: 9, why: "128 * r * N * p above 1 GiB"),
    ])
    func hostileScryptParameters(parameters: ScryptParameters) throws {
        let hostile = PassphraseKDF.scrypt(logN: parameters.logN, r: parameters.r, p: parameters.p)
        #expect(throws: SealError.unsupportedParameters) {
            try Self.seal(Self.secret, kdf: hostile, seed: "hostile seal")
        }

        var patched = try Self.seal(Self.secret, seed: "hostile open")
        patched[SealedLayout.scryptLogN] = parameters.logN
        patched.replaceSubrange(SealedLayout.scryptR, with: SealedLayout.bigEndian(parameters.r))
        patched.replaceSubrange(SealedLayout.scryptP, with: SealedLayout.bigEndian(parameters.p))
        patched = SealedLayout.withChecksumRecomputed(patched)
        #expect(try SealedContainer.kdfParameters(of: patched) == hostile)

        let clock = ContinuousClock()
        let bound = Patience.scaled(.seconds(1))
        let start = clock.now
        let error = Self.openError(patched)
        let elapsed = clock.now - start
        #expect(error == .unsupportedParameters)
        #expect(elapsed < bound, "refusing took \(elapsed): something was derived")
    }

    // MARK: Size limit

    /// `open` reads containers of at most `maxPlaintextSize + 1024` bytes (PROTOCOL.md 4.3). A
    /// container one byte larger is built by hand (seal refuses such a plaintext) with a valid
    /// tag and checksum, so only the size limit can refuse it; the same construction with the
    /// largest plaintext `seal` accepts opens.
    @Test("an authentic container one byte over the size limit is refused as .corrupted")
    func oversizedContainer() throws {
        let limit = SealedContainer.maxPlaintextSize + 1024
        let random = SeededRandomSource(seed: "oversized")
        let salt = random.bytes(16)
        let nonce = random.bytes(12)
        func container(plaintextSize: Int) throws -> [UInt8] {
            try SealedLayout.scryptContainer(
                plaintext: [UInt8](repeating: 0x61, count: plaintextSize),
                passphrase: Self.passphrase, context: Self.context, logN: 10, r: 8, p: 1, salt: salt, nonce: nonce
            )
        }
        let largest = try container(plaintextSize: SealedContainer.maxPlaintextSize)
        let opened = try SealedContainer.open(largest, passphrase: Self.passphrase, context: Self.context)
        #expect(opened.count == SealedContainer.maxPlaintextSize)

        let overLimit = try container(plaintextSize: limit + 1 - SealedLayout.scryptOverhead)
        #expect(overLimit.count == limit + 1)
        #expect(Self.openError(overLimit) == .corrupted)
    }

    @Test("sealing more than maxPlaintextSize bytes is refused")
    func oversizedPlaintext() {
        let plaintext = [UInt8](repeating: 0, count: SealedContainer.maxPlaintextSize + 1)
        #expect(throws: SealError.unsupportedParameters) {
            try Self.seal(plaintext, seed: "oversized plaintext")
        }
    }

    // MARK: Helpers

    private static func seal(_ plaintext: [UInt8], kdf: PassphraseKDF = cheapScrypt, seed: String) throws -> [UInt8] {
        try SealedContainer.seal(
            plaintext, passphrase: passphrase, context: context, kdf: kdf, random: SeededRandomSource(seed: seed)
        )
    }

    /// The error opening `container` with the right passphrase and context; nil if it opens.
    private static func openError(_ container: [UInt8]) -> SealError? {
        do {
            _ = try SealedContainer.open(container, passphrase: passphrase, context: context)
            return nil
        } catch {
            return error
        }
    }
}

/// The container layout of PROTOCOL.md 4.3, written out independently of SealedContainer's code:
///
///     magic "CCSEAL" || version 0x01 || kdf parameters || salt (16) || check (16) || nonce (12)
///     || AES-256-GCM ciphertext || tag (16) || SHA-256 of everything before it (32)
///
/// scrypt parameters are 0x01 || logN || u32be(r) || u32be(p); PBKDF2's are 0x02 || u32be(rounds).
/// The master key is the KDF's 32-byte output; the AES key is HKDF-Expand(master,
/// "cipherchat/v1/seal-key", 32) and the check value HKDF-Expand(master, "cipherchat/v1/seal-check",
/// 16); the associated data is LP(header) || LP(context), LP being a u32be length and the bytes.
private enum SealedLayout {
    static let checksumSize = 32
    static let scryptLogN = 8
    static let scryptR = 9..<13
    static let scryptP = 13..<17
    static let pbkdf2Rounds = 8..<12
    /// Everything but the plaintext: 6 + 1 + 10 + 16 + 16 + 12 + 16 + 32.
    static let scryptOverhead = 109
    /// The same with PBKDF2's five parameter bytes.
    static let pbkdf2Overhead = 104

    static func scryptContainer(
        plaintext: [UInt8], passphrase: String, context: String,
        logN: UInt8, r: UInt32, p: UInt32, salt: [UInt8], nonce: [UInt8]
    ) throws -> [UInt8] {
        let master = try KDF.Scrypt.deriveKey(
            from: Array(passphrase.utf8), salt: salt, outputByteCount: 32,
            rounds: 1 << Int(logN), blockSize: Int(r), parallelism: Int(p)
        )
        let key = HKDF<SHA256>.expand(
            pseudoRandomKey: master, info: Array("cipherchat/v1/seal-key".utf8), outputByteCount: 32
        )
        let check = HKDF<SHA256>.expand(
            pseudoRandomKey: master, info: Array("cipherchat/v1/seal-check".utf8), outputByteCount: 16
        )
        let header = Array("CCSEAL".utf8) + [0x01, 0x01, logN] + bigEndian(r) + bigEndian(p)
            + salt + check.withUnsafeBytes { Array($0) } + nonce
        let associatedData = bigEndian(UInt32(header.count)) + header
            + bigEndian(UInt32(context.utf8.count)) + Array(context.utf8)
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: associatedData)
        return withChecksumRecomputed(header + Array(box.ciphertext) + Array(box.tag) + [UInt8](repeating: 0, count: checksumSize))
    }

    /// `container` with its last 32 bytes replaced by the SHA-256 of the rest.
    static func withChecksumRecomputed(_ container: [UInt8]) -> [UInt8] {
        let body = container.dropLast(checksumSize)
        return Array(body) + Array(SHA256.hash(data: body))
    }

    /// What opening gives once the low bit of the byte at `position` of a logN 10, r 8, p 1
    /// container is flipped and its checksum recomputed.
    static func errorAfterFlippingLowBit(at position: Int) -> SealError {
        switch position {
        case 0..<8: .corrupted // magic, version, KDF identifier: not a container this version reads
        case scryptLogN: .wrongPassphrase // logN 10 becomes 11: acceptable, and another key
        case scryptR.lowerBound..<scryptR.upperBound - 1: .unsupportedParameters // r above 64
        case scryptR.upperBound - 1: .wrongPassphrase // r 8 becomes 9
        case scryptP: .unsupportedParameters // p above 16, or p 1 becomes 0
        case 17..<49: .wrongPassphrase // salt and check value
        default: .corrupted // nonce, ciphertext, tag: the AEAD fails
        }
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}
