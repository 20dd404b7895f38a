import Crypto
import _CryptoExtras

/// How a sealing key is derived from a passphrase (PROTOCOL.md 4.3). scrypt is what new
/// containers use; PBKDF2-HMAC-SHA256 is read so that keys sealed elsewhere with it can be opened.
public enum PassphraseKDF: Sendable, Hashable {
    /// scrypt with cost N = 2^logN, block size r, parallelism p.
    case scrypt(logN: UInt8, r: UInt32, p: UInt32)
    /// PBKDF2-HMAC-SHA256 with the given iteration count.
    case pbkdf2SHA256(rounds: UInt32)

    /// N = 2^17, r = 8, p = 1: about 128 MiB and half a second here.
    public static let defaultScrypt = PassphraseKDF.scrypt(logN: 17, r: 8, p: 1)
    public static let minimumPBKDF2Rounds: UInt32 = 600_000

    static let scryptIdentifier: UInt8 = 1
    static let pbkdf2Identifier: UInt8 = 2
    /// A hostile file must not make the reader allocate without bound: scrypt needs
    /// 128 * r * N * p bytes, capped here at 1 GiB.
    static let maxScryptMemory = 1 << 30
    static let maxPBKDF2Rounds: UInt32 = 100_000_000

    var isAcceptable: Bool {
        switch self {
        case .scrypt(let logN, let r, let p):
            guard (10...24).contains(logN), (1...64).contains(r), (1...16).contains(p) else { return false }
            return 128 * Int(r) * (1 << Int(logN)) * Int(p) <= Self.maxScryptMemory
        case .pbkdf2SHA256(let rounds):
            return (Self.minimumPBKDF2Rounds...Self.maxPBKDF2Rounds).contains(rounds)
        }
    }

    /// The parameter bytes as they appear in the container header.
    var headerBytes: [UInt8] {
        var out = CanonicalBytes()
        switch self {
        case .scrypt(let logN, let r, let p):
            out.raw([Self.scryptIdentifier, logN])
            out.uint32(r)
            out.uint32(p)
        case .pbkdf2SHA256(let rounds):
            out.raw([Self.pbkdf2Identifier])
            out.uint32(rounds)
        }
        return out.bytes
    }

    func deriveMasterKey(passphrase: [UInt8], salt: [UInt8]) throws -> SymmetricKey {
        switch self {
        case .scrypt(let logN, let r, let p):
            try KDF.Scrypt.deriveKey(
                from: passphrase, salt: salt, outputByteCount: 32,
                rounds: 1 << Int(logN), blockSize: Int(r), parallelism: Int(p)
            )
        case .pbkdf2SHA256(let rounds):
            try KDF.Insecure.PBKDF2.deriveKey(
                from: passphrase, salt: salt, using: .sha256, outputByteCount: 32, rounds: Int(rounds)
            )
        }
    }
}
