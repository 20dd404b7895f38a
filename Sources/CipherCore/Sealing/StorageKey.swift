import Crypto
import Foundation

/// The key a client seals its stored secrets with (PROTOCOL.md 4.5): 32 random bytes, itself
/// kept only inside a passphrase `SealedContainer`, so the slow passphrase derivation runs once
/// per process rather than once per stored item. Each item is
///
///     nonce (12) || AES-256-GCM ciphertext || tag (16),
///     associated data LP("cipherchat/v1/storage-item") || LP(context)
///
/// with a fresh random nonce, and a context naming the item (its table and key), so an item
/// cannot be moved to another place in the store and still open.
public struct StorageKey: Sendable {
    /// The context of the passphrase container that holds the storage key.
    public static let containerContext = "cipherchat/v1/storage-key"

    private let key: SymmetricKey
    /// HMAC key for `lookupTag`, derived so that the sealing key serves one purpose only.
    private let lookupKey: SymmetricKey

    public static func generate(random: some RandomSource) -> StorageKey {
        StorageKey(key: SymmetricKey(data: random.bytes(32)))
    }

    /// Restores the key from the bytes unsealed from its passphrase container.
    public init(bytes: [UInt8]) throws(SealError) {
        guard bytes.count == 32 else { throw .corrupted }
        self.init(key: SymmetricKey(data: bytes))
    }

    private init(key: SymmetricKey) {
        self.key = key
        lookupKey = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: key, info: Array(Label.storageLookup.utf8), outputByteCount: 32
        )
    }

    /// The raw key, to be sealed under the passphrase. Handle as a secret.
    public var bytes: [UInt8] { key.bytes }

    public func seal(_ plaintext: [UInt8], context: String, random: some RandomSource) throws -> [UInt8] {
        let nonce = random.bytes(12)
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(data: nonce), authenticating: Self.associatedData(context))
        return nonce + Array(box.ciphertext) + Array(box.tag)
    }

    public func open(_ sealed: [UInt8], context: String) throws(SealError) -> [UInt8] {
        guard sealed.count >= 28 else { throw .corrupted }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: sealed.prefix(12)), ciphertext: sealed.dropFirst(12).dropLast(16), tag: sealed.suffix(16)
            )
            return Array(try AES.GCM.open(box, using: key, authenticating: Self.associatedData(context)))
        } catch {
            throw .corrupted
        }
    }

    /// A 16-byte tag that lets the store find `value` again without keeping it (PROTOCOL.md
    /// 4.5): HMAC-SHA-256 under a key derived from this one, over LP(scope) || LP(value),
    /// truncated. Equal inputs give equal tags; without the key a tag says nothing of its input.
    public func lookupTag(_ value: some Collection<UInt8>, scope: String) -> [UInt8] {
        var input = CanonicalBytes()
        input.field(Array(scope.utf8))
        input.field(value)
        return Array(HMAC<SHA256>.authenticationCode(for: input.bytes, using: lookupKey).prefix(16))
    }

    private static func associatedData(_ context: String) -> [UInt8] {
        var aad = CanonicalBytes(label: Label.storageItem)
        aad.field(Array(context.utf8))
        return aad.bytes
    }
}

extension StorageKey: CustomStringConvertible {
    public var description: String { "StorageKey(redacted)" }
}
