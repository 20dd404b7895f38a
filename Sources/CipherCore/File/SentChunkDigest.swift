import Crypto
import Foundation

/// What an upload has let out, as a running SHA-256 over the GCM tags of its sealed chunks in
/// order. A resumed upload seals the file again under the same key and nonces; if the file
/// changed, some chunk the relay may already have seen would be sealed again over different
/// plaintext: a nonce reused under one key. Equal digests over the chunks already let out mean
/// equal chunks (the tag authenticates the ciphertext under key and nonce), so the upload may
/// go on; a different digest means it must start over under a new key.
public struct SentChunkDigest: Sendable {
    private var hasher = SHA256()
    public private(set) var chunks: UInt64 = 0

    public init() {}

    /// Adds one sealed chunk (ciphertext followed by its 16-byte tag).
    public mutating func add(sealedChunk: Data) {
        hasher.update(data: sealedChunk.suffix(16))
        chunks += 1
    }

    /// The digest of the chunks added so far.
    public var value: [UInt8] { Array(hasher.finalize()) }
}
