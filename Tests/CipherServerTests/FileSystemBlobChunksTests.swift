import CipherRelay
@testable import CipherServer
import Foundation
import Testing

@Suite("Blob chunks on disk")
struct FileSystemBlobChunksTests {
    /// Four chunks of 1040 bytes and a last one of 100.
    static let layout = BlobLayout(size: 4 * 1040 + 100, chunkSize: 1040)
    static let blobID = [UInt8](repeating: 0xab, count: 16)

    static func chunk(_ index: UInt64, fill: UInt8 = 0) -> Data {
        Data(repeating: UInt8(truncatingIfNeeded: index) &+ fill, count: layout.chunkLength(index))
    }

    /// A storage that syncs and marks every chunk as it is written, unless `durableBatch` says,
    /// with the upload of `blobID` started.
    static func storage(durableBatch: Int = 1) async throws -> (FileSystemBlobChunks, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-blobs-\(UUID().uuidString)").path
        let storage = try FileSystemBlobChunks(directory: directory, durableBatch: durableBatch)
        try await storage.startBlob(blobID: blobID)
        return (storage, directory)
    }

    @Test("a chunk for a blob whose folder was deleted is refused, and no folder comes back; the listing names only blob folders")
    func noFolderAfterDeletion() async throws {
        let (storage, directory) = try await Self.storage()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try await storage.storeChunk(Self.chunk(0), blobID: Self.blobID, index: 0, layout: Self.layout))
        try FileManager.default.createDirectory(atPath: directory + "/not-a-blob", withIntermediateDirectories: false)
        #expect(try await storage.storedBlobIDs() == [Self.blobID])

        try await storage.deleteChunks(blobID: Self.blobID)
        #expect(try await !storage.storeChunk(Self.chunk(1), blobID: Self.blobID, index: 1, layout: Self.layout))
        let never = [UInt8](repeating: 0xcd, count: 16)
        #expect(try await !storage.storeChunk(Self.chunk(0), blobID: never, index: 0, layout: Self.layout))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["not-a-blob"])
        #expect(try await storage.storedBlobIDs().isEmpty)
    }

    @Test("chunks stored in any order count from chunk 0 on; each reads back whole; deletion removes the blob")
    func anyOrder() async throws {
        let (storage, directory) = try await Self.storage()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 0)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 0, layout: Self.layout) == nil)

        for index: UInt64 in [4, 2, 0] {
            try await storage.storeChunk(Self.chunk(index), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        // Chunk 1 is missing: chunks 2 and 4 are stored but not counted, chunk 1 reads as missing.
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 1)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 1, layout: Self.layout) == nil)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 4, layout: Self.layout) == Self.chunk(4))

        for index: UInt64 in [3, 1] {
            try await storage.storeChunk(Self.chunk(index), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 5)
        for index: UInt64 in 0..<5 {
            #expect(try await storage.chunk(blobID: Self.blobID, index: index, layout: Self.layout) == Self.chunk(index))
        }
        try await storage.makeDurable(blobID: Self.blobID)

        try await storage.deleteChunks(blobID: Self.blobID)
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }

    @Test("a stored chunk is never overwritten, even from another process's storage on the same directory")
    func neverOverwritten() async throws {
        let (storage, directory) = try await Self.storage()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let other = try FileSystemBlobChunks(directory: directory, durableBatch: 1)
        try await storage.storeChunk(Self.chunk(0), blobID: Self.blobID, index: 0, layout: Self.layout)
        try await other.storeChunk(Self.chunk(0, fill: 7), blobID: Self.blobID, index: 0, layout: Self.layout)
        #expect(try await other.chunk(blobID: Self.blobID, index: 0, layout: Self.layout) == Self.chunk(0))
    }

    @Test("a chunk cut short by a writer killed mid-way is not stored: it reads as missing and is written whole on resume")
    func tornWrite() async throws {
        let (storage, directory) = try await Self.storage()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await storage.storeChunk(Self.chunk(0), blobID: Self.blobID, index: 0, layout: Self.layout)
        // What a killed writer leaves: part of chunk 1's bytes, and no mark.
        let chunks = FileHandle(forUpdatingAtPath: BlobPaths(directory: directory, blobID: Self.blobID).chunks)!
        try chunks.seek(toOffset: 1040)
        try chunks.write(contentsOf: Data(repeating: 0xee, count: 500))
        try chunks.close()

        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 1)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 1, layout: Self.layout) == nil)
        try await storage.storeChunk(Self.chunk(1), blobID: Self.blobID, index: 1, layout: Self.layout)
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 2)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 1, layout: Self.layout) == Self.chunk(1))
    }

    @Test("a mark without its chunk's bytes (the file cut short) reads as missing, not as a short chunk")
    func markWithoutBytes() async throws {
        let (storage, directory) = try await Self.storage()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index: UInt64 in 0..<5 {
            try await storage.storeChunk(Self.chunk(index), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        #expect(truncate(BlobPaths(directory: directory, blobID: Self.blobID).chunks, 4 * 1040 + 50) == 0)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 4, layout: Self.layout) == nil)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 3, layout: Self.layout) == Self.chunk(3))
    }

    @Test("chunks count as stored only once a batch is synced: a relay stopped before the sync has them sent again")
    func batchedDurability() async throws {
        let (storage, directory) = try await Self.storage(durableBatch: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index: UInt64 in 0..<2 {
            try await storage.storeChunk(Self.chunk(index), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        // Written, not synced: not stored, not readable.
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 0)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 0, layout: Self.layout) == nil)
        try await storage.storeChunk(Self.chunk(2), blobID: Self.blobID, index: 2, layout: Self.layout)
        // The third chunk completes the batch: synced and marked.
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 3)
        try await storage.storeChunk(Self.chunk(3), blobID: Self.blobID, index: 3, layout: Self.layout)
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 3)
        try await storage.makeDurable(blobID: Self.blobID)
        #expect(try await storage.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 4)
        #expect(try await storage.chunk(blobID: Self.blobID, index: 3, layout: Self.layout) == Self.chunk(3))
    }

    @Test("a resume after a batch whose sync did not happen writes those chunks again, and only those")
    func resumeAfterMissedSync() async throws {
        let (stopped, directory) = try await Self.storage(durableBatch: 3)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for index: UInt64 in 0..<5 {
            try await stopped.storeChunk(Self.chunk(index), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        // The relay stops here: chunks 0-2 were synced and marked, 3 and 4 only written.
        let restarted = try FileSystemBlobChunks(directory: directory, durableBatch: 3)
        try await restarted.makeDurable(blobID: Self.blobID)
        #expect(try await restarted.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 3)
        #expect(try await restarted.chunk(blobID: Self.blobID, index: 3, layout: Self.layout) == nil)
        // The client sends chunks 3 and 4 again (their bytes differ here only to show which were kept).
        for index: UInt64 in 0..<5 {
            try await restarted.storeChunk(Self.chunk(index, fill: 9), blobID: Self.blobID, index: index, layout: Self.layout)
        }
        try await restarted.makeDurable(blobID: Self.blobID)
        #expect(try await restarted.storedPrefix(blobID: Self.blobID, layout: Self.layout) == 5)
        for index: UInt64 in 0..<3 {
            #expect(try await restarted.chunk(blobID: Self.blobID, index: index, layout: Self.layout) == Self.chunk(index))
        }
        for index: UInt64 in 3..<5 {
            #expect(try await restarted.chunk(blobID: Self.blobID, index: index, layout: Self.layout) == Self.chunk(index, fill: 9))
        }
    }
}
