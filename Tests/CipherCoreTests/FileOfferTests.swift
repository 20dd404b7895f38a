import CipherTesting
import CipherWire
import Foundation
import Testing
@testable import CipherCore

@Suite("File offers and resumed file streams")
struct FileOfferTests {
    static func manifest() throws -> ([[UInt8]], FileManifest) {
        try FileStreamTests.encrypt(FileStreamTests.pattern(5 * 1024 + 17))
    }

    @Test("an offer round-trips, with and without a room; its description leaves the key out")
    func roundTrip() throws {
        let (_, manifest) = try Self.manifest()
        for room in [nil, "#team"] {
            let offer = FileOffer(blobID: [UInt8](repeating: 9, count: 16), manifest: manifest, room: room)
            let decoded = try FileOffer(serialized: offer.serialized)
            #expect(decoded == offer)
            #expect(decoded.room == room)
        }
        let offer = FileOffer(blobID: [UInt8](repeating: 9, count: 16), manifest: manifest)
        #expect(!offer.description.contains(Hex.encode(manifest.key)))
        #expect(offer.description.contains("key redacted"))
    }

    @Test("malformed offers are refused as one error")
    func malformed() throws {
        let (_, manifest) = try Self.manifest()
        var wire = WireFileOffer()
        wire.blobID = Data(repeating: 1, count: 15)
        wire.manifest = try WireFileManifest(serializedBytes: manifest.serialized)
        #expect(throws: FileError.malformedManifest) { try FileOffer(serialized: wire.encodedBytes) }
        wire.blobID = Data(repeating: 1, count: 16)
        wire.clearManifest()
        #expect(throws: FileError.malformedManifest) { try FileOffer(serialized: wire.encodedBytes) }
        wire.manifest = try WireFileManifest(serializedBytes: manifest.serialized)
        wire.room = String(repeating: "r", count: 40)
        #expect(throws: FileError.malformedManifest) { try FileOffer(serialized: wire.encodedBytes) }
        #expect(throws: FileError.malformedManifest) { try FileOffer(serialized: [UInt8](repeating: 0xff, count: 64)) }
        #expect(throws: FileError.malformedManifest) { try FileOffer(serialized: [UInt8](repeating: 0, count: 4096)) }
    }

    @Test("the payload kind of an offer survives encoding")
    func payloadKind() throws {
        let payload = Payload(kind: .fileOffer, content: [1, 2, 3], sentAtMilliseconds: 5, random: SeededRandomSource(seed: "offer"))
        #expect(try Payload(decoding: payload.encoded()).kind == .fileOffer)
    }

    @Test("encrypting again under the same key gives the same chunks")
    func resumedEncryption() throws {
        let plaintext = FileStreamTests.pattern(5 * 1024 + 17)
        var first = FileEncryptor(random: SeededRandomSource(seed: "resume"), chunkSize: 1024)
        var chunks: [[UInt8]] = []
        try first.append(plaintext) { chunks.append($0) }
        chunks.append(try first.finish(name: "a").finalChunk)
        var again = try first.withFileKey { try FileEncryptor(resumingWith: $0, chunkSize: 1024) }
        var repeated: [[UInt8]] = []
        try again.append(plaintext) { repeated.append($0) }
        repeated.append(try again.finish(name: "a").finalChunk)
        #expect(repeated == chunks)
        #expect(throws: FileError.malformedManifest) { try FileEncryptor(resumingWith: [1, 2, 3], chunkSize: 1024) }
    }

    @Test("a decryptor resumed from opened plaintext checks the whole file; altered plaintext fails the hash")
    func resumedDecryption() throws {
        let plaintext = FileStreamTests.pattern(5 * 1024 + 17)
        let (chunks, manifest) = try FileStreamTests.encrypt(plaintext)
        var decryptor = FileDecryptor(manifest: manifest)
        try plaintext[0..<2048].withUnsafeBytes {
            try decryptor.resume(withOpenedChunk: UnsafeRawBufferPointer(rebasing: $0[0..<1024]))
            try decryptor.resume(withOpenedChunk: UnsafeRawBufferPointer(rebasing: $0[1024..<2048]))
        }
        #expect(decryptor.openedChunks == 2)
        var rest: [UInt8] = []
        for chunk in chunks.dropFirst(2) { rest += try decryptor.open(chunk) }
        try decryptor.finish()
        #expect(rest == Array(plaintext[2048...]))

        var altered = FileDecryptor(manifest: manifest)
        var wrong = Array(plaintext[0..<1024])
        wrong[5] ^= 1
        try wrong.withUnsafeBytes { try altered.resume(withOpenedChunk: $0) }
        for chunk in chunks.dropFirst(1) { _ = try altered.open(chunk) }
        #expect(throws: FileError.hashMismatch) { try altered.finish() }

        // Never the final chunk, never a short one.
        var short = FileDecryptor(manifest: manifest)
        try [UInt8](repeating: 0, count: 10).withUnsafeBytes { bytes in
            #expect(throws: FileError.chunkRejected(index: 0)) { try short.resume(withOpenedChunk: bytes) }
        }
    }
}
