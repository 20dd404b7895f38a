import CipherClient
import CipherCore
import CipherRelay
import CipherServer
import CipherWire
import Foundation
import Testing

/// A blob's chunks live only while its metadata does (PROTOCOL.md 12.8): no chunk is written
/// for a deleted blob, a recipient cannot delete an upload under way, and folders left without
/// metadata are swept.
@Suite("Blob chunks after deletion", .serialized)
struct BlobDeletionTests {
    /// Two chunks of 1040 bytes: 2080 bytes.
    static let size: UInt64 = 2080

    static func folder(_ relay: TestRelay, _ id: [UInt8]) -> String {
        relay.directory + "/blobs/" + Hex.encode(id)
    }

    static func received(_ id: [UInt8]) -> WireClientFrame.OneOf_Body {
        var received = WireBlobReceived()
        received.blobID = Data(id)
        return .blobReceived(received)
    }

    @Test("a recipient's BlobReceived for an incomplete blob is refused; the upload goes on and completes")
    func receivedBeforeComplete() async throws {
        let relay = try await TestRelay.start()
        let alice = try await BlobProtocolTests.login(try await relay.makeUser("alice"), to: relay)
        let bob = try await BlobProtocolTests.login(try await relay.makeUser("bob"), to: relay)
        let id = [UInt8](repeating: 0x51, count: 16)
        _ = try await alice.request(BlobProtocolTests.start(id, size: Self.size, chunkSize: 1040, recipients: ["bob"]))
        _ = try await alice.request(BlobProtocolTests.chunk(id, 0, [UInt8](repeating: 1, count: 1040)))

        #expect(await BlobProtocolTests.code { _ = try await bob.request(Self.received(id)) } == .blobIncomplete)
        #expect(try await relay.store.blob(id: id) != nil)
        _ = try await alice.request(BlobProtocolTests.chunk(id, 1, [UInt8](repeating: 2, count: 1040)))
        guard case .blobUploadStatus(let status) = try await alice.request(BlobProtocolTests.finish(id)).body else {
            Issue.record("no upload status")
            return
        }
        #expect(status.complete)
        for link in [alice, bob] { await link.close() }
        await relay.stop()
    }

    @Test("a chunk sent on a connection that knew the blob before it was deleted is refused, and makes no folder")
    func chunkAfterDeletion() async throws {
        let relay = try await TestRelay.start()
        let alice = try await BlobProtocolTests.login(try await relay.makeUser("alice"), to: relay)
        _ = try await relay.makeUser("bob")
        let id = [UInt8](repeating: 0x52, count: 16)
        _ = try await alice.request(BlobProtocolTests.start(id, size: Self.size, chunkSize: 1040, recipients: ["bob"]))
        _ = try await alice.request(BlobProtocolTests.chunk(id, 0, [UInt8](repeating: 1, count: 1040)))
        #expect(FileManager.default.fileExists(atPath: Self.folder(relay, id)))

        // Deleted elsewhere, as its time to live or another relay instance deletes it: this
        // connection still holds the blob in `openBlobs`.
        try await relay.store.deleteBlob(id: id)
        try await relay.server.service.blobChunks.deleteChunks(blobID: id)
        #expect(await BlobProtocolTests.code {
            _ = try await alice.request(BlobProtocolTests.chunk(id, 1, [UInt8](repeating: 2, count: 1040)))
        } == .unknownBlob)
        #expect(!FileManager.default.fileExists(atPath: Self.folder(relay, id)))
        // And again: the connection forgot the blob, so the answer is the same.
        #expect(await BlobProtocolTests.code {
            _ = try await alice.request(BlobProtocolTests.chunk(id, 1, [UInt8](repeating: 2, count: 1040)))
        } == .unknownBlob)
        #expect(!FileManager.default.fileExists(atPath: Self.folder(relay, id)))
        await alice.close()
        await relay.stop()
    }

    @Test("the expiry sweep deletes folders without metadata and keeps an upload under way")
    func orphanedFoldersSwept() async throws {
        let relay = try await TestRelay.start()
        let alice = try await BlobProtocolTests.login(try await relay.makeUser("alice"), to: relay)
        _ = try await relay.makeUser("bob")
        let live = [UInt8](repeating: 0x53, count: 16)
        _ = try await alice.request(BlobProtocolTests.start(live, size: Self.size, chunkSize: 1040, recipients: ["bob"]))
        _ = try await alice.request(BlobProtocolTests.chunk(live, 0, [UInt8](repeating: 1, count: 1040)))
        // What an earlier version let a deleted blob's uploader leave: chunks, no metadata.
        let orphan = [UInt8](repeating: 0x54, count: 16)
        let chunks = relay.server.service.blobChunks
        try await chunks.startBlob(blobID: orphan)
        try await chunks.storeChunk(Data(repeating: 3, count: 1040), blobID: orphan, index: 0, layout: BlobLayout(size: Self.size, chunkSize: 1040))

        #expect(try await relay.server.service.expireBlobs() == 1)
        #expect(!FileManager.default.fileExists(atPath: Self.folder(relay, orphan)))
        #expect(FileManager.default.fileExists(atPath: Self.folder(relay, live)))
        _ = try await alice.request(BlobProtocolTests.chunk(live, 1, [UInt8](repeating: 2, count: 1040)))
        guard case .blobUploadStatus(let status) = try await alice.request(BlobProtocolTests.finish(live)).body else {
            Issue.record("no upload status")
            return
        }
        #expect(status.complete)
        await alice.close()
        await relay.stop()
    }
}
