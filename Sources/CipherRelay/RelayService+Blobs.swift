extension RelayService {
    /// Deletes blobs past their time to live, metadata and chunks; returns how many.
    public func expireBlobs() async throws -> Int {
        let ttl = configuration.blobTTLSeconds * 1000
        let now = clock.wallMilliseconds
        let expired = try await store.expireBlobs(createdBefore: now > ttl ? now - ttl : 0)
        for id in expired { try await blobChunks.deleteChunks(blobID: id) }
        return expired.count + (try await sweepOrphanedChunks())
    }

    /// Deletes the chunks of blobs that have no metadata: what a crash between deleting a
    /// blob's metadata and its chunks leaves, or an earlier version let a deleted blob's
    /// uploader write. A folder is made only after its metadata (`startBlob`), so a live
    /// upload is never swept.
    func sweepOrphanedChunks() async throws -> Int {
        var swept = 0
        for id in try await blobChunks.storedBlobIDs() where try await store.blob(id: id) == nil {
            try await blobChunks.deleteChunks(blobID: id)
            swept += 1
        }
        return swept
    }
}
