extension InMemoryRelayStore {
    public func createBlob(_ blob: StoredBlob, ownerQuota: UInt64) -> BlobCreation {
        if let existing = blobs[blob.id] { return .exists(existing) }
        let used = blobs.values.lazy.filter { $0.owner == blob.owner }.reduce(UInt64(0)) { $0 + $1.size }
        guard used + blob.size <= ownerQuota else { return .quotaExceeded(quota: ownerQuota) }
        blobs[blob.id] = blob
        return .created(blob)
    }

    public func blob(id: [UInt8]) -> StoredBlob? { blobs[id] }

    public func updateBlobProgress(id: [UInt8], storedChunks: UInt64, complete: Bool) {
        blobs[id]?.storedChunks = storedChunks
        blobs[id]?.complete = complete
    }

    public func recordBlobFetched(id: [UInt8], by username: String) -> StoredBlob? {
        guard var blob = blobs[id] else { return nil }
        if !blob.fetchedBy.contains(username) {
            blob.fetchedBy = (blob.fetchedBy + [username]).sorted()
            blobs[id] = blob
        }
        return blob
    }

    public func deleteBlob(id: [UInt8]) {
        blobs.removeValue(forKey: id)
    }

    public func expireBlobs(createdBefore cutoffMilliseconds: UInt64) -> [[UInt8]] {
        let expired = blobs.values.filter { $0.createdAtMilliseconds < cutoffMilliseconds }.map(\.id)
        for id in expired { blobs.removeValue(forKey: id) }
        return expired
    }
}
