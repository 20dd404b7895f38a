import Crypto
import Foundation

/// STREAM chunked encryption of a file (PROTOCOL.md 9), as the age format uses it: AES-256-GCM,
/// one chunk per fixed-size piece of plaintext, nonce = 11-byte big-endian chunk counter ||
/// a last-chunk flag byte (0x01 on the final chunk, else 0x00). Reordered, dropped, repeated or
/// appended chunks fail to authenticate. Memory is one chunk, whatever the file's size.
enum StreamNonce {
    static func make(counter: UInt64, isFinal: Bool) -> AES.GCM.Nonce {
        var bytes = [UInt8](repeating: 0, count: 12)
        for index in 0..<8 { bytes[10 - index] = UInt8(truncatingIfNeeded: counter >> (8 * UInt64(index))) }
        bytes[11] = isFinal ? 0x01 : 0x00
        return try! AES.GCM.Nonce(data: bytes)
    }

    /// HKDF-SHA256(ikm: file key, salt: empty, info: "cipherchat/v1/file-stream", 32 bytes).
    static func streamKey(fileKey: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: fileKey), info: Array(Label.fileStream.utf8), outputByteCount: 32
        )
    }
}

/// Encrypts a file given in pieces of any size; emits whole encrypted chunks as they fill.
public struct FileEncryptor: Sendable {
    public let chunkSize: Int
    private let fileKey: [UInt8]
    private let key: SymmetricKey
    private var counter: UInt64 = 0
    private var pending: [UInt8] = []
    private var hasher = SHA256()
    private var size: UInt64 = 0
    private var sealedFinal = false

    public init(random: some RandomSource, chunkSize: Int = FileManifest.defaultChunkSize) {
        self.init(fileKey: random.bytes(32), chunkSize: chunkSize)
    }

    /// Encrypts again under a key used before, to resume an interrupted upload: the same
    /// plaintext gives the same chunks. The caller MUST make sure the plaintext is unchanged
    /// (a changed file under the same key would reuse nonces), and start afresh otherwise.
    public init(resumingWith fileKey: [UInt8], chunkSize: Int) throws(FileError) {
        guard fileKey.count == 32, FileManifest.allowedChunkSizes.contains(chunkSize) else { throw .malformedManifest }
        self.init(fileKey: fileKey, chunkSize: chunkSize)
    }

    /// The file key, handed to `body` only, for a store that keeps it sealed until the upload
    /// is done.
    public func withFileKey<Result>(_ body: ([UInt8]) throws -> Result) rethrows -> Result {
        try body(fileKey)
    }

    init(fileKey: [UInt8], chunkSize: Int) {
        precondition(FileManifest.allowedChunkSizes.contains(chunkSize), "chunk size out of range")
        self.chunkSize = chunkSize
        self.fileKey = fileKey
        self.key = StreamNonce.streamKey(fileKey: fileKey)
        pending.reserveCapacity(chunkSize)
    }

    /// Takes more plaintext; calls `emit` with each completed encrypted chunk. A full chunk is
    /// held back until more data (or `finish`) shows whether it is the last.
    public mutating func append(_ plaintext: some Collection<UInt8>, emit: ([UInt8]) throws -> Void) throws {
        guard size + UInt64(plaintext.count) <= FileManifest.maxSize else { throw FileError.tooLarge }
        guard !sealedFinal else { throw FileError.malformedManifest }
        let hashedInPlace: Void? = plaintext.withContiguousStorageIfAvailable { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        if hashedInPlace == nil { hasher.update(data: Array(plaintext)) }
        size += UInt64(plaintext.count)
        var remaining = plaintext[...]
        while !remaining.isEmpty {
            if pending.count == chunkSize {
                try emit(try seal(pending, isFinal: false))
                pending.removeAll(keepingCapacity: true)
            }
            let take = min(chunkSize - pending.count, remaining.count)
            pending.append(contentsOf: remaining.prefix(take))
            remaining = remaining.dropFirst(take)
        }
    }

    /// Seals the next chunk when the caller cuts the plaintext itself, as a reader that knows
    /// the file's size does: `plaintext` is exactly `chunkSize` bytes, or for the final chunk
    /// (`isFinal`) 0 to `chunkSize` bytes (0 only for an empty file). It is hashed and sealed
    /// where it lies, with no copy; the encrypted chunk (ciphertext and tag) is returned.
    /// Not for use after `append`; after the final chunk, `manifest(name:)` gives the manifest.
    public mutating func seal(chunk plaintext: UnsafeRawBufferPointer, isFinal: Bool) throws -> Data {
        guard pending.isEmpty, !sealedFinal, plaintext.count <= chunkSize, isFinal || plaintext.count == chunkSize,
              !plaintext.isEmpty || counter == 0, size + UInt64(plaintext.count) <= FileManifest.maxSize else {
            throw FileError.malformedManifest
        }
        hasher.update(bufferPointer: plaintext)
        size += UInt64(plaintext.count)
        let box = try AES.GCM.seal(plaintext, using: key, nonce: StreamNonce.make(counter: counter, isFinal: isFinal))
        counter += 1
        sealedFinal = isFinal
        // The box holds nonce || ciphertext || tag in one buffer: the chunk is a slice of it.
        return box.combined!.dropFirst(12)
    }

    /// The manifest, once `seal(chunk:isFinal:)` has sealed the final chunk.
    public func manifest(name: String) throws -> FileManifest {
        guard sealedFinal, !name.isEmpty, name.utf8.count <= FileManifest.maxNameSize else { throw FileError.malformedManifest }
        return FileManifest(name: name, size: size, sha256: Array(hasher.finalize()), key: fileKey, chunkSize: chunkSize)
    }

    /// Seals the final chunk (empty only for an empty file) and returns it with the manifest.
    public mutating func finish(name: String) throws -> (finalChunk: [UInt8], manifest: FileManifest) {
        guard !name.isEmpty, name.utf8.count <= FileManifest.maxNameSize, !sealedFinal else { throw FileError.malformedManifest }
        let finalChunk = try seal(pending, isFinal: true)
        sealedFinal = true
        pending.removeAll(keepingCapacity: false)
        let manifest = FileManifest(
            name: name, size: size, sha256: Array(hasher.finalize()), key: fileKey, chunkSize: chunkSize
        )
        return (finalChunk, manifest)
    }

    private mutating func seal(_ chunk: [UInt8], isFinal: Bool) throws -> [UInt8] {
        let box = try AES.GCM.seal(chunk, using: key, nonce: StreamNonce.make(counter: counter, isFinal: isFinal))
        counter += 1
        // Sized once: growing the array to fit the tag would double it past glibc's mmap
        // threshold and map and unmap memory for every chunk.
        var out = [UInt8]()
        out.reserveCapacity(box.ciphertext.count + 16)
        out.append(contentsOf: box.ciphertext)
        out.append(contentsOf: box.tag)
        return out
    }
}

/// Decrypts a file chunk by chunk against its manifest; `finish` checks the SHA-256 and that
/// the final chunk was seen. Plaintext from a chunk is released only after it authenticates.
public struct FileDecryptor: Sendable {
    public let manifest: FileManifest
    private let key: SymmetricKey
    private var counter: UInt64 = 0
    private var hasher = SHA256()
    private var finished = false

    public init(manifest: FileManifest) {
        self.manifest = manifest
        self.key = StreamNonce.streamKey(fileKey: manifest.key)
    }

    /// The size of every encrypted chunk but the last.
    public var encryptedChunkSize: Int { manifest.chunkSize + 16 }

    /// Decrypts the next chunk, in order. A `Data` chunk is opened where it lies; the plaintext
    /// is returned as the cipher wrote it, with no copy.
    public mutating func open(_ chunk: some Collection<UInt8>) throws(FileError) -> Data {
        guard counter < manifest.chunkCount else { throw .trailingData }
        let isFinal = counter == manifest.chunkCount - 1
        let expectedPlaintext = isFinal
            ? Int(manifest.size - (manifest.chunkCount - 1) * UInt64(manifest.chunkSize))
            : manifest.chunkSize
        guard chunk.count == expectedPlaintext + 16 else { throw .chunkRejected(index: counter) }
        let bytes = chunk as? Data ?? Data(chunk)
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: StreamNonce.make(counter: counter, isFinal: isFinal),
                ciphertext: bytes.dropLast(16), tag: bytes.suffix(16)
            )
            plaintext = try AES.GCM.open(box, using: key)
        } catch {
            throw .chunkRejected(index: counter)
        }
        hasher.update(data: plaintext)
        counter += 1
        finished = isFinal
        return plaintext
    }

    /// Takes the plaintext of the next chunk as opened earlier, to resume a download from its
    /// own partial output: hashed and counted, not decrypted, so `finish` still checks it. Only
    /// whole chunks before the last.
    public mutating func resume(withOpenedChunk plaintext: UnsafeRawBufferPointer) throws(FileError) {
        guard counter + 1 < manifest.chunkCount else { throw .trailingData }
        guard plaintext.count == manifest.chunkSize else { throw .chunkRejected(index: counter) }
        hasher.update(bufferPointer: plaintext)
        counter += 1
    }

    /// How many chunks have been opened (or resumed): the index of the next one.
    public var openedChunks: UInt64 { counter }

    /// Confirms the stream is complete and its plaintext is the one the manifest names.
    public func finish() throws(FileError) {
        guard finished else { throw .truncated }
        guard constantTimeEquals(Array(hasher.finalize()), manifest.sha256) else { throw .hashMismatch }
    }
}
