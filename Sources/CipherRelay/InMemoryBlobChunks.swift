import Foundation
import Synchronization

/// A `BlobChunkStorage` in memory: for tests of the relay logic without a disk. The server
/// stores chunks as files (`FileSystemBlobChunks` in CipherServer).
public final class InMemoryBlobChunks: BlobChunkStorage {
    private let chunks = Mutex<[[UInt8]: [UInt64: Data]]>([:])

    public init() {}

    public func startBlob(blobID: [UInt8]) {
        chunks.withLock { all in
            if all[blobID] == nil { all[blobID] = [:] }
        }
    }

    @discardableResult
    public func storeChunk(_ bytes: Data, blobID: [UInt8], index: UInt64, layout: BlobLayout) -> Bool {
        chunks.withLock { all in
            guard all[blobID] != nil else { return false }
            if all[blobID]?[index] == nil { all[blobID]?[index] = bytes }
            return true
        }
    }

    public func chunk(blobID: [UInt8], index: UInt64, layout: BlobLayout) -> Data? {
        chunks.withLock { all in all[blobID]?[index].flatMap { $0.count == layout.chunkLength(index) ? $0 : nil } }
    }

    public func storedPrefix(blobID: [UInt8], layout: BlobLayout) -> UInt64 {
        chunks.withLock { all in
            var index: UInt64 = 0
            while index < layout.chunkCount, all[blobID]?[index]?.count == layout.chunkLength(index) { index += 1 }
            return index
        }
    }

    /// Memory does not outlive the process: nothing to make durable.
    public func makeDurable(blobID: [UInt8]) {}

    public func deleteChunks(blobID: [UInt8]) {
        chunks.withLock { _ = $0.removeValue(forKey: blobID) }
    }

    public func storedBlobIDs() -> [[UInt8]] {
        chunks.withLock { Array($0.keys) }
    }
}
