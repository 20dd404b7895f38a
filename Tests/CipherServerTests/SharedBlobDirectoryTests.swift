import CipherRelay
import CipherServer
import Foundation
import Testing

/// Two `FileSystemBlobChunks` on one directory, as two relay instances sharing `--blob-dir`.
@Suite("A blob directory shared by several relay instances")
struct SharedBlobDirectoryTests {
    static let layout = BlobLayout(size: 64 * 1040, chunkSize: 1040)

    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appending(path: "cipherchat-shared-blobs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("a chunk stored through one instance is read through the other, and deleted by either")
    func chunksAreShared() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try FileSystemBlobChunks(directory: directory)
        let second = try FileSystemBlobChunks(directory: directory)
        let id = [UInt8](repeating: 7, count: 16)
        try await first.startBlob(blobID: id)
        for index in 0..<Self.layout.chunkCount {
            try await first.storeChunk(Data(repeating: UInt8(index), count: Self.layout.chunkLength(index)), blobID: id, index: index, layout: Self.layout)
        }
        // As an upload's finish does: every chunk written is synced and marked.
        try await first.makeDurable(blobID: id)
        #expect(try await second.storedPrefix(blobID: id, layout: Self.layout) == Self.layout.chunkCount)
        #expect(try await second.chunk(blobID: id, index: 3, layout: Self.layout) == Data(repeating: 3, count: 1040))
        try await second.deleteChunks(blobID: id)
        #expect(try await first.chunk(blobID: id, index: 3, layout: Self.layout) == nil)
        try await first.deleteChunks(blobID: id)
    }

    /// Two recipients on two instances can finish a file at once: both instances see it
    /// fetched by all and delete its chunks together. Neither may fail for what the other
    /// removed first (the failure would reach its recipient as an internal error).
    @Test("both instances deleting one blob's chunks at once both succeed")
    func concurrentDeletesSucceed() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let instances = [try FileSystemBlobChunks(directory: directory), try FileSystemBlobChunks(directory: directory)]
        let chunk = Data(repeating: 1, count: 1040)
        for round in 0..<50 {
            let id = [UInt8](repeating: UInt8(round), count: 16)
            try await instances[0].startBlob(blobID: id)
            for index in 0..<Self.layout.chunkCount {
                try await instances[0].storeChunk(chunk, blobID: id, index: index, layout: Self.layout)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for instance in instances {
                    group.addTask { try await instance.deleteChunks(blobID: id) }
                }
                try await group.waitForAll()
            }
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/\(String(repeating: String(format: "%02x", round), count: 16))"))
        }
    }
}
