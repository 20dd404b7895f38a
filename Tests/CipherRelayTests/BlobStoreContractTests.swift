import CipherRelay
import Testing

/// The blob part of the storage contract (`BlobStore` in BlobStore.swift), run against every
/// backend (`StoreFactory.all`).
@Suite("Relay store contract: blobs")
struct BlobStoreContractTests {
    static func blob(_ id: UInt8, owner: String = "alice", recipients: [String] = ["bob"], size: UInt64 = 1000,
                     createdAt: UInt64 = 100) -> StoredBlob {
        StoredBlob(
            id: [UInt8](repeating: id, count: 16), owner: owner, recipients: recipients, size: size, chunkSize: 272,
            createdAtMilliseconds: createdAt
        )
    }

    @Test("a blob is created once; its id again gets the first back", arguments: StoreFactory.all)
    func creation(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let first = Self.blob(1, recipients: ["carol", "bob", "bob"])
            #expect(first.recipients == ["bob", "carol"])
            #expect(try await store.createBlob(first, ownerQuota: 10_000) == .created(first))
            let other = Self.blob(1, owner: "mallory", size: 5)
            #expect(try await store.createBlob(other, ownerQuota: 10_000) == .exists(first))
            #expect(try await store.blob(id: first.id) == first)
            #expect(try await store.blob(id: Self.blob(2).id) == nil)
        }
    }

    @Test("the owner's quota counts every blob of theirs, not other owners'", arguments: StoreFactory.all)
    func quota(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            #expect(try await store.createBlob(Self.blob(1, size: 600), ownerQuota: 1000) == .created(Self.blob(1, size: 600)))
            #expect(try await store.createBlob(Self.blob(2, size: 401), ownerQuota: 1000) == .quotaExceeded(quota: 1000))
            #expect(try await store.createBlob(Self.blob(3, size: 400), ownerQuota: 1000) == .created(Self.blob(3, size: 400)))
            let bobs = Self.blob(4, owner: "bob", recipients: ["alice"], size: 900)
            #expect(try await store.createBlob(bobs, ownerQuota: 1000) == .created(bobs))
            try await store.deleteBlob(id: Self.blob(1).id)
            #expect(try await store.createBlob(Self.blob(5, size: 600), ownerQuota: 1000) == .created(Self.blob(5, size: 600)))
        }
    }

    @Test("progress, fetches and deletion are recorded", arguments: StoreFactory.all)
    func progressAndFetches(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let blob = Self.blob(1, recipients: ["bob", "carol"])
            _ = try await store.createBlob(blob, ownerQuota: 10_000)
            try await store.updateBlobProgress(id: blob.id, storedChunks: 3, complete: false)
            #expect(try await store.blob(id: blob.id)?.storedChunks == 3)
            #expect(try await store.blob(id: blob.id)?.complete == false)
            try await store.updateBlobProgress(id: blob.id, storedChunks: 4, complete: true)
            #expect(try await store.blob(id: blob.id)?.complete == true)

            let afterBob = try #require(try await store.recordBlobFetched(id: blob.id, by: "bob"))
            #expect(afterBob.fetchedBy == ["bob"])
            #expect(!afterBob.fetchedByAll)
            #expect(try await store.recordBlobFetched(id: blob.id, by: "bob")?.fetchedBy == ["bob"])
            let afterCarol = try #require(try await store.recordBlobFetched(id: blob.id, by: "carol"))
            #expect(afterCarol.fetchedBy == ["bob", "carol"])
            #expect(afterCarol.fetchedByAll)
            #expect(try await store.blob(id: blob.id) == afterCarol)

            try await store.deleteBlob(id: blob.id)
            #expect(try await store.blob(id: blob.id) == nil)
            #expect(try await store.recordBlobFetched(id: blob.id, by: "bob") == nil)
        }
    }

    @Test("expiry deletes blobs created before the cutoff and names them", arguments: StoreFactory.all)
    func expiry(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            for (id, time) in [(UInt8(1), UInt64(100)), (2, 200), (3, 300)] {
                _ = try await store.createBlob(Self.blob(id, createdAt: time), ownerQuota: 10_000)
            }
            let expired = try await store.expireBlobs(createdBefore: 250)
            #expect(Set(expired) == [Self.blob(1).id, Self.blob(2).id])
            #expect(try await store.blob(id: Self.blob(1).id) == nil)
            #expect(try await store.blob(id: Self.blob(3).id) != nil)
            #expect(try await store.expireBlobs(createdBefore: 250).isEmpty)
        }
    }
}
