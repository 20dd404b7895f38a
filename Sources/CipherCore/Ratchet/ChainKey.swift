import Crypto
import Foundation

/// A symmetric-key ratchet step (PROTOCOL.md 6.2): from a chain key CK,
/// message key MK = HMAC-SHA256(CK, 0x01) and next chain key CK' = HMAC-SHA256(CK, 0x02).
/// Shared by the pairwise Double Ratchet and the group sender chains.
struct ChainKey: Sendable {
    let key: SymmetricKey

    init(_ key: SymmetricKey) {
        self.key = key
    }

    func step() -> (messageKey: SymmetricKey, next: ChainKey) {
        // The keyed HMAC state is made once and copied, saving one key schedule per step.
        let keyed = HMAC<SHA256>(key: key)
        var messageMAC = keyed
        messageMAC.update(data: [0x01])
        var chainMAC = keyed
        chainMAC.update(data: [0x02])
        return (SymmetricKey(data: messageMAC.finalize()), ChainKey(SymmetricKey(data: chainMAC.finalize())))
    }
}

/// The AES-256-GCM key and nonce for one message: HKDF-Expand-SHA256(MK, info, 44), the first
/// 32 bytes the key and the last 12 the nonce (PROTOCOL.md 6.3). Each message key is used for
/// exactly one encryption, so a derived nonce never repeats under a key.
struct MessageKeys {
    let key: SymmetricKey
    let nonce: AES.GCM.Nonce

    init(messageKey: SymmetricKey, label: String) {
        let material = HKDF<SHA256>.expand(pseudoRandomKey: messageKey, info: Array(label.utf8), outputByteCount: 44)
        let (key, nonce) = material.withUnsafeBytes { bytes in
            (SymmetricKey(data: bytes.prefix(32)), Array(bytes.suffix(12)))
        }
        self.key = key
        // 12 bytes is always a valid GCM nonce.
        self.nonce = try! AES.GCM.Nonce(data: nonce)
    }

    func seal(_ plaintext: some DataProtocol, authenticating aad: [UInt8]) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, nonce: nonce, authenticating: aad)
        var out = Array(box.ciphertext)
        out.append(contentsOf: box.tag)
        return out
    }

    func open(_ ciphertext: [UInt8], authenticating aad: [UInt8]) throws(DecryptionError) -> [UInt8] {
        guard ciphertext.count >= 16 else { throw .malformed }
        do {
            let box = try AES.GCM.SealedBox(nonce: nonce, ciphertext: ciphertext.dropLast(16), tag: ciphertext.suffix(16))
            return Array(try AES.GCM.open(box, using: key, authenticating: aad))
        } catch {
            throw .cannotDecrypt
        }
    }
}

extension SymmetricKey {
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
}
