import Foundation

/// What a relay's blob directory holds (PROTOCOL.md 12.8): a folder per blob, with the blob's
/// `chunks` file and its `stored` file of one byte per chunk, 1 once the chunk is stored.
enum BlobFolders {
    /// An encrypted chunk of the reference client: 256 KiB and the tag.
    static let encryptedChunkSize = 256 * 1024 + 16

    /// The blob folders under `directory`, sorted.
    static func folders(under directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().map { directory.appending(path: $0) }
    }

    /// How many chunks are marked stored, over every blob: cheap enough to poll every few
    /// milliseconds (one small file read per blob).
    static func storedChunkCount(under directory: URL) -> Int {
        folders(under: directory).reduce(0) { count, folder in
            let marks = (try? Data(contentsOf: folder.appending(path: "stored"))) ?? Data()
            return count + marks.filter { $0 == 1 }.count
        }
    }

    /// The first `count` bytes of a blob's `chunks` file.
    static func prefix(of folder: URL, count: Int) throws -> Data {
        let handle = try FileHandle(forReadingFrom: folder.appending(path: "chunks"))
        defer { try? handle.close() }
        return try handle.read(upToCount: count) ?? Data()
    }
}
