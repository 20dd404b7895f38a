import CipherClient
import CipherCore
import CipherRelay
import CipherWire
import Foundation
import Testing

/// The relay's blob requests (PROTOCOL.md 12.8) over real TLS, frame by frame: what it accepts,
/// what it refuses and with which code.
@Suite("Relay blob store over TLS", .serialized)
struct BlobProtocolTests {
    static func login(_ client: ChatClient, to relay: TestRelay) async throws -> RelayLink {
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await link.authenticate(.login, username: client.username, identity: client.identity)
        return link
    }

    static func code(_ body: () async throws -> Void) async -> WireError.Code? {
        do {
            try await body()
            return nil
        } catch let error as RelayError {
            return error.code
        } catch {
            return .unspecified
        }
    }

    static func start(_ id: [UInt8], size: UInt64, chunkSize: UInt32, recipients: [String]) -> WireClientFrame.OneOf_Body {
        var start = WireBlobUploadStart()
        start.blobID = Data(id)
        start.size = size
        start.chunkSize = chunkSize
        start.recipients = recipients
        return .blobUploadStart(start)
    }

    static func chunk(_ id: [UInt8], _ index: UInt64, _ data: [UInt8]) -> WireClientFrame.OneOf_Body {
        var upload = WireBlobChunkUpload()
        upload.blobID = Data(id)
        upload.index = index
        upload.data = Data(data)
        return .blobChunkUpload(upload)
    }

    static func request(_ id: [UInt8], _ index: UInt64) -> WireClientFrame.OneOf_Body {
        var request = WireBlobChunkRequest()
        request.blobID = Data(id)
        request.index = index
        return .blobChunkRequest(request)
    }

    static func finish(_ id: [UInt8]) -> WireClientFrame.OneOf_Body {
        var finish = WireBlobUploadFinish()
        finish.blobID = Data(id)
        return .blobUploadFinish(finish)
    }

    @Test("uploads are checked against their declared layout; only recipients fetch, only complete blobs; all fetched deletes")
    func blobLifecycle() async throws {
        let relay = try await TestRelay.start { $0.maxFileSize = 10_000 }
        let alice = try await Self.login(try await relay.makeUser("alice"), to: relay)
        let bob = try await Self.login(try await relay.makeUser("bob"), to: relay)
        let mallory = try await Self.login(try await relay.makeUser("mallory"), to: relay)
        let id = [UInt8](repeating: 0xab, count: 16)
        // Three chunks of 1040 bytes, then a last one of 100: 3220 bytes.
        let chunks = (0..<4).map { index in [UInt8](repeating: UInt8(index), count: index == 3 ? 100 : 1040) }

        #expect(await Self.code { _ = try await alice.request(Self.start(Array(id.prefix(15)), size: 3220, chunkSize: 1040, recipients: ["bob"])) } == .invalidChunk)
        #expect(await Self.code { _ = try await alice.request(Self.start(id, size: 3220, chunkSize: 1 << 20, recipients: ["bob"])) } == .invalidChunk)
        #expect(await Self.code { _ = try await alice.request(Self.start(id, size: 3130, chunkSize: 1040, recipients: ["bob"])) } == .invalidChunk)
        #expect(await Self.code { _ = try await alice.request(Self.start(id, size: 20_000, chunkSize: 1040, recipients: ["bob"])) } == .blobTooLarge)
        #expect(await Self.code { _ = try await alice.request(Self.start(id, size: 3220, chunkSize: 1040, recipients: ["nobody"])) } == .unknownUser)
        #expect(await Self.code { _ = try await alice.request(Self.chunk(id, 0, chunks[0])) } == .unknownBlob)

        guard case .blobUploadStatus(let status) = try await alice.request(Self.start(id, size: 3220, chunkSize: 1040, recipients: ["bob"])).body else {
            Issue.record("no upload status")
            return
        }
        #expect(status.storedChunks == 0)
        #expect(status.chunkCount == 4)
        #expect(await Self.code { _ = try await mallory.request(Self.start(id, size: 3220, chunkSize: 1040, recipients: ["bob"])) } == .blobMismatch)
        #expect(await Self.code { _ = try await alice.request(Self.chunk(id, 4, chunks[3])) } == .invalidChunk)
        #expect(await Self.code { _ = try await alice.request(Self.chunk(id, 0, chunks[3])) } == .invalidChunk)
        _ = try await alice.request(Self.chunk(id, 0, chunks[0]))
        _ = try await alice.request(Self.chunk(id, 2, chunks[2]))
        #expect(await Self.code { _ = try await alice.request(Self.finish(id)) } == .blobIncomplete)
        #expect(await Self.code { _ = try await bob.request(Self.request(id, 0)) } == .blobIncomplete)

        // A resume reports the stored prefix, not the chunk stored past the gap.
        guard case .blobUploadStatus(let resumed) = try await alice.request(Self.start(id, size: 3220, chunkSize: 1040, recipients: ["bob"])).body else {
            Issue.record("no upload status")
            return
        }
        #expect(resumed.storedChunks == 1)
        _ = try await alice.request(Self.chunk(id, 1, chunks[1]))
        _ = try await alice.request(Self.chunk(id, 3, chunks[3]))
        guard case .blobUploadStatus(let finished) = try await alice.request(Self.finish(id)).body else {
            Issue.record("no upload status")
            return
        }
        #expect(finished.complete)

        #expect(await Self.code { _ = try await mallory.request(Self.request(id, 0)) } == .unknownBlob)
        #expect(await Self.code { _ = try await bob.request(Self.request(id, 4)) } == .invalidChunk)
        for index in 0..<4 {
            guard case .blobChunk(let fetched) = try await bob.request(Self.request(id, UInt64(index))).body else {
                Issue.record("no chunk \(index)")
                return
            }
            #expect(Array(fetched.data) == chunks[index])
        }
        let blobDirectory = relay.directory + "/blobs/" + Hex.encode(id)
        #expect(FileManager.default.fileExists(atPath: blobDirectory))
        var received = WireBlobReceived()
        received.blobID = Data(id)
        #expect(await Self.code { _ = try await mallory.request(.blobReceived(received)) } == .unknownBlob)
        _ = try await bob.request(.blobReceived(received))
        #expect(try await relay.store.blob(id: id) == nil)
        #expect(!FileManager.default.fileExists(atPath: blobDirectory))

        for link in [alice, bob, mallory] { await link.close() }
        await relay.stop()
    }

    @Test("upload starts and room fetches take tokens of the message rate, before any store read: a burst of them is refused")
    func startsAndFetchesAreRateLimited() async throws {
        let relay = try await TestRelay.start {
            $0.messageBurst = 3
            $0.messagesPerSecond = 0.001
        }
        let alice = try await relay.makeUser("alice")
        _ = try await relay.makeUser("bob")

        let uploader = try await Self.login(alice, to: relay)
        var codes: [WireError.Code?] = []
        for index in UInt8(0)..<4 {
            let id = [UInt8](repeating: index, count: 16)
            codes.append(await Self.code { _ = try await uploader.request(Self.start(id, size: 1040, chunkSize: 1040, recipients: ["bob"])) })
        }
        #expect(codes == [nil, nil, nil, .rateLimited], "\(codes)")

        // A fetch of a room that does not exist still costs its token: the look-up is work.
        let fetcher = try await Self.login(alice, to: relay)
        codes = []
        for _ in 0..<4 {
            var fetch = WireFetchRoom()
            fetch.room = "#nowhere"
            codes.append(await Self.code { _ = try await fetcher.request(.fetchRoom(fetch)) })
        }
        #expect(codes == [.unknownRoom, .unknownRoom, .unknownRoom, .rateLimited], "\(codes)")

        for link in [uploader, fetcher] { await link.close() }
        await relay.stop()
    }
}
