import Crypto
import Foundation

/// Seals secrets at rest under a passphrase (PROTOCOL.md 4.3):
///
///     magic "CCSEAL" || version 0x01 || kdf parameters || salt (16) || check (16) || nonce (12)
///     || AES-256-GCM ciphertext || tag (16) || SHA-256 of everything before it (32)
///
/// The header (magic to nonce) and the caller's `context` label are the AEAD's associated data,
/// so a container sealed as one thing cannot be opened as another. The 16-byte check value,
/// derived from the passphrase key, tells a wrong passphrase from a damaged file; the trailing
/// unkeyed SHA-256 catches accidental damage before any key derivation runs.
public enum SealedContainer {
    static let magic = Array("CCSEAL".utf8)
    static let version: UInt8 = 1
    static let saltSize = 16
    static let checkSize = 16
    static let nonceSize = 12
    static let tagSize = 16
    static let checksumSize = 32
    /// The largest secret this format seals: a full client store's worth of session state.
    public static let maxPlaintextSize = 64 * 1024 * 1024

    public static func seal(
        _ plaintext: [UInt8], passphrase: String, context: String,
        kdf: PassphraseKDF = .defaultScrypt, random: some RandomSource
    ) throws -> [UInt8] {
        guard kdf.isAcceptable else { throw SealError.unsupportedParameters }
        guard plaintext.count <= maxPlaintextSize else { throw SealError.unsupportedParameters }
        let salt = random.bytes(saltSize)
        let keys = try derivedKeys(kdf: kdf, passphrase: passphrase, salt: salt)
        let nonce = random.bytes(nonceSize)
        let header = magic + [version] + kdf.headerBytes + salt + keys.check + nonce
        let box = try AES.GCM.seal(
            plaintext, using: keys.encryption, nonce: AES.GCM.Nonce(data: nonce),
            authenticating: associatedData(header: header, context: context)
        )
        let body = header + Array(box.ciphertext) + Array(box.tag)
        return body + Array(SHA256.hash(data: body))
    }

    public static func open(_ container: [UInt8], passphrase: String, context: String) throws(SealError) -> [UInt8] {
        let parsed = try parse(container)
        guard parsed.kdf.isAcceptable else { throw .unsupportedParameters }
        let keys: (encryption: SymmetricKey, check: [UInt8])
        do {
            keys = try derivedKeys(kdf: parsed.kdf, passphrase: passphrase, salt: parsed.salt)
        } catch {
            throw .unsupportedParameters
        }
        guard constantTimeEquals(keys.check, parsed.check) else { throw .wrongPassphrase }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: parsed.nonce), ciphertext: parsed.ciphertext, tag: parsed.tag
            )
            let aad = associatedData(header: parsed.header, context: context)
            return Array(try AES.GCM.open(box, using: keys.encryption, authenticating: aad))
        } catch {
            throw .corrupted
        }
    }

    /// The KDF parameters a container was sealed with, to decide whether to re-seal it with
    /// the current defaults.
    public static func kdfParameters(of container: [UInt8]) throws(SealError) -> PassphraseKDF {
        try parse(container).kdf
    }

    private struct Parsed {
        var header: [UInt8]
        var kdf: PassphraseKDF
        var salt: [UInt8]
        var check: [UInt8]
        var nonce: [UInt8]
        var ciphertext: [UInt8]
        var tag: [UInt8]
    }

    private static func parse(_ container: [UInt8]) throws(SealError) -> Parsed {
        let minimumSize = magic.count + 1 + 5 + saltSize + checkSize + nonceSize + tagSize + checksumSize
        guard container.count >= minimumSize,
              container.count <= maxPlaintextSize + 1024 else { throw .corrupted }
        let body = container.dropLast(checksumSize)
        guard Array(SHA256.hash(data: body)) == Array(container.suffix(checksumSize)) else { throw .corrupted }
        guard Array(body.prefix(magic.count)) == magic, body[magic.count] == version else { throw .corrupted }
        var cursor = magic.count + 1
        let kdf: PassphraseKDF
        switch body[cursor] {
        case PassphraseKDF.scryptIdentifier:
            let logN = body[cursor + 1]
            let r = readUInt32(body, at: cursor + 2)
            let p = readUInt32(body, at: cursor + 6)
            kdf = .scrypt(logN: logN, r: r, p: p)
            cursor += 10
        case PassphraseKDF.pbkdf2Identifier:
            kdf = .pbkdf2SHA256(rounds: readUInt32(body, at: cursor + 1))
            cursor += 5
        default:
            throw .corrupted
        }
        let headerEnd = cursor + saltSize + checkSize + nonceSize
        guard body.count >= headerEnd + tagSize else { throw .corrupted }
        let header = Array(body[..<headerEnd])
        return Parsed(
            header: header,
            kdf: kdf,
            salt: Array(body[cursor..<cursor + saltSize]),
            check: Array(body[cursor + saltSize..<cursor + saltSize + checkSize]),
            nonce: Array(body[headerEnd - nonceSize..<headerEnd]),
            ciphertext: Array(body[headerEnd..<body.count - tagSize]),
            tag: Array(body.suffix(tagSize))
        )
    }

    private static func readUInt32(_ bytes: ArraySlice<UInt8>, at offset: Int) -> UInt32 {
        let start = bytes.startIndex + offset
        return bytes[start..<start + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    private static func associatedData(header: [UInt8], context: String) -> [UInt8] {
        var aad = CanonicalBytes()
        aad.field(header)
        aad.field(Array(context.utf8))
        return aad.bytes
    }

    private static func derivedKeys(
        kdf: PassphraseKDF, passphrase: String, salt: [UInt8]
    ) throws -> (encryption: SymmetricKey, check: [UInt8]) {
        let master = try kdf.deriveMasterKey(passphrase: Array(passphrase.utf8), salt: salt)
        let encryption = HKDF<SHA256>.expand(
            pseudoRandomKey: master, info: Array(Label.sealKey.utf8), outputByteCount: 32
        )
        let check = HKDF<SHA256>.expand(
            pseudoRandomKey: master, info: Array(Label.sealCheck.utf8), outputByteCount: checkSize
        )
        return (encryption, check.withUnsafeBytes { Array($0) })
    }
}
