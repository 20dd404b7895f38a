import CipherTesting
import Foundation
import Testing
@testable import CipherCore

@Suite("File STREAM encryption")
struct FileStreamTests {
    static let chunkSize = 1024

    /// Encrypts `plaintext` fed in pieces of `pieceSize`; returns the chunks and the manifest.
    static func encrypt(_ plaintext: [UInt8], pieceSize: Int = 700) throws -> ([[UInt8]], FileManifest) {
        var encryptor = FileEncryptor(random: SeededRandomSource(seed: "file-key"), chunkSize: chunkSize)
        var chunks: [[UInt8]] = []
        var offset = 0
        while offset < plaintext.count {
            let end = min(offset + pieceSize, plaintext.count)
            try encryptor.append(plaintext[offset..<end]) { chunks.append($0) }
            offset = end
        }
        let (finalChunk, manifest) = try encryptor.finish(name: "notes.txt")
        chunks.append(finalChunk)
        return (chunks, manifest)
    }

    static func decrypt(_ chunks: [[UInt8]], manifest: FileManifest) throws -> [UInt8] {
        var decryptor = FileDecryptor(manifest: manifest)
        var out: [UInt8] = []
        for chunk in chunks { out += try decryptor.open(chunk) }
        try decryptor.finish()
        return out
    }

    static func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

    @Test("files of edge-case sizes round-trip", arguments: [0, 1, 1023, 1024, 1025, 3 * 1024 + 5, 10 * 1024])
    func roundTrip(size: Int) throws {
        let plaintext = Self.pattern(size)
        let (chunks, manifest) = try Self.encrypt(plaintext)
        #expect(UInt64(chunks.count) == manifest.chunkCount)
        #expect(manifest.size == UInt64(size))
        #expect(UInt64(chunks.reduce(0) { $0 + $1.count }) == manifest.encryptedSize)
        let reread = try FileManifest(serialized: manifest.serialized)
        #expect(try Self.decrypt(chunks, manifest: reread) == plaintext)
    }

    @Test("every single-byte change to a chunk is rejected")
    func everyByteFlip() throws {
        let (chunks, manifest) = try Self.encrypt(Self.pattern(1500))
        for chunkIndex in chunks.indices {
            for byteIndex in chunks[chunkIndex].indices {
                var altered = chunks
                altered[chunkIndex][byteIndex] ^= 0x80
                #expect(throws: FileError.chunkRejected(index: UInt64(chunkIndex))) { try Self.decrypt(altered, manifest: manifest) }
            }
        }
    }

    @Test("reordered, dropped, repeated and appended chunks are detected")
    func structuralAttacks() throws {
        let (chunks, manifest) = try Self.encrypt(Self.pattern(4 * 1024 + 10))
        #expect(chunks.count == 5)
        var swapped = chunks
        swapped.swapAt(1, 2)
        #expect(throws: FileError.chunkRejected(index: 1)) { try Self.decrypt(swapped, manifest: manifest) }
        #expect(throws: FileError.truncated) { try Self.decrypt(Array(chunks.prefix(4)), manifest: manifest) }
        #expect(throws: FileError.trailingData) { try Self.decrypt(chunks + [chunks[4]], manifest: manifest) }
        var repeated = chunks
        repeated[2] = chunks[1]
        #expect(throws: FileError.chunkRejected(index: 2)) { try Self.decrypt(repeated, manifest: manifest) }
        // A stream cut at a chunk boundary, with a manifest claiming the shorter size: the new
        // last chunk was sealed as not final, so it does not authenticate.
        let shortManifest = try FileManifest(serialized: FileManifestFixture.withSize(manifest, 2 * 1024))
        #expect(throws: FileError.chunkRejected(index: 1)) { try Self.decrypt(Array(chunks.prefix(2)), manifest: shortManifest) }
    }

    @Test("a manifest whose SHA-256 does not match the content is refused at the end")
    func hashMismatch() throws {
        let (chunks, manifest) = try Self.encrypt(Self.pattern(2000))
        let wrongHash = try FileManifest(serialized: FileManifestFixture.withHash(manifest, [UInt8](repeating: 0xaa, count: 32)))
        #expect(throws: FileError.hashMismatch) { try Self.decrypt(chunks, manifest: wrongHash) }
    }

    @Test("chunks sealed where they lie, cut by the caller, are the same stream and manifest as appended pieces",
          arguments: [0, 1, 1023, 1024, 1025, 3 * 1024 + 5, 10 * 1024])
    func sealedInPlace(size: Int) throws {
        let plaintext = Self.pattern(size)
        let (appended, appendedManifest) = try Self.encrypt(plaintext)
        var encryptor = try FileEncryptor(resumingWith: appendedManifest.key, chunkSize: Self.chunkSize)
        var sealed: [[UInt8]] = []
        let count = max(1, (size + Self.chunkSize - 1) / Self.chunkSize)
        for index in 0..<count {
            let piece = Array(plaintext[(index * Self.chunkSize)..<min(size, (index + 1) * Self.chunkSize)])
            sealed.append(Array(try piece.withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: index == count - 1) }))
        }
        #expect(sealed == appended)
        #expect(try encryptor.manifest(name: "notes.txt") == appendedManifest)
        #expect(try Self.decrypt(sealed, manifest: appendedManifest) == plaintext)
    }

    @Test("sealing in place refuses a short chunk before the last, an empty last chunk of a non-empty file, and anything after the last")
    func sealedInPlaceRefusals() throws {
        var encryptor = FileEncryptor(random: SeededRandomSource(seed: "file-key"), chunkSize: Self.chunkSize)
        let full = Self.pattern(Self.chunkSize)
        #expect(throws: FileError.malformedManifest) { try full.prefix(10).withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: false) } }
        #expect(throws: FileError.malformedManifest) { try encryptor.manifest(name: "notes.txt") }
        _ = try full.withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: false) }
        #expect(throws: FileError.malformedManifest) { try [UInt8]().withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: true) } }
        _ = try full.prefix(5).withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: true) }
        #expect(throws: FileError.malformedManifest) { try full.withUnsafeBytes { try encryptor.seal(chunk: $0, isFinal: true) } }
        #expect(throws: FileError.malformedManifest) { try encryptor.append(full) { _ in } }
        #expect(try encryptor.manifest(name: "notes.txt").size == UInt64(Self.chunkSize + 5))
    }
}

enum FileManifestFixture {
    static func withSize(_ manifest: FileManifest, _ size: UInt64) -> [UInt8] {
        FileManifest(name: manifest.name, size: size, sha256: manifest.sha256, key: manifest.key, chunkSize: manifest.chunkSize).serialized
    }

    static func withHash(_ manifest: FileManifest, _ hash: [UInt8]) -> [UInt8] {
        FileManifest(name: manifest.name, size: manifest.size, sha256: hash, key: manifest.key, chunkSize: manifest.chunkSize).serialized
    }
}
