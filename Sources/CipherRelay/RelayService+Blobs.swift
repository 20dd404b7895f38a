extension RelayService {
    /// Deletes blobs past their time to live, metadata and chunks; returns how many.
    public func expireBlobs() async throws -> Int {
        let ttl = configuration.blobTTLSeconds * 1000
        let now = clock.wallMilliseconds
        let expired = try await store.expireBlobs(createdBefore: now > ttl ? now - ttl : 0)
        for id in expired { try await blobChunks.deleteChunks(blobID: id) }
        return expired.count
    }
}
