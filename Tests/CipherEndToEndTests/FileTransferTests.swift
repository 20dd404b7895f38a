import CipherTesting
import Foundation
import Testing

@Suite("Files end to end", .serialized, .timeLimit(.minutes(15)))
struct FileTransferTests {
    /// How much more a 256 MiB transfer may take in a client than a 1 KiB one: its window of
    /// chunks and their buffers, with room for the allocator's arenas on a busy machine.
    static let clientGrowthLimit = 24 << 20
    /// How much more a 256 MiB transfer may take than a 1 KiB one: the chunks in flight (8 of
    /// 256 KiB, each copied a few times between file, cipher, frame and socket), not the file.
    static let transferGrowthLimit = 16 << 20

    /// A relay with alice and bob registered on it.
    static func twoUsers(relayArguments: [String] = []) async throws -> (RelayProcess, UserHome, UserHome) {
        let relay = try await RelayProcess(arguments: relayArguments)
        let endpoint = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: endpoint).requireSuccess()
        try await bob.initialize(on: endpoint).requireSuccess()
        return (relay, alice, bob)
    }

    static func blobDirectory(of relay: RelayProcess) -> URL {
        relay.dataDirectory.appending(path: "blobs")
    }

    static let encryptedChunkSize = BlobFolders.encryptedChunkSize

    static func blobFolders(_ relay: RelayProcess) -> [URL] {
        BlobFolders.folders(under: blobDirectory(of: relay))
    }

    static func storedChunkCount(_ relay: RelayProcess) -> Int {
        BlobFolders.storedChunkCount(under: blobDirectory(of: relay))
    }

    /// Waits (bounded) until `condition` holds, polling every few milliseconds.
    static func waitUntil(_ what: String, timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws {
        let deadline = Patience.deadline(timeout)
        while ContinuousClock.now < deadline {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw HarnessError("timed out waiting until \(what)")
    }

    @Test("a 256 MiB file arrives intact; it adds under 24 MiB to what the sender and receiver hold for 1 KiB, and under 16 MiB to the relay")
    func largeFile() async throws {
        let (relay, alice, bob) = try await Self.twoUsers()
        // What each process takes for a file of 1 KiB: the large one may add only its buffers.
        let small = alice.files.appending(path: "small.bin")
        try TestFiles.make(at: small, size: 1024)
        let smallSend = try alice.launch(["file", "send"], ["bob", small.path])
        let (smallSendStatus, smallSendPeak) = await PeakMemory.watch(smallSend, timeout: .seconds(60))
        #expect(smallSendStatus == 0, "\(smallSend.readStandardError())")
        #expect(try await bob.receive().map(\.kind) == ["file"])
        let smallID = try #require(try await bob.listFiles().first?.id)
        let smallGet = try bob.launch(["file", "get"], [smallID, "--out", bob.files.appending(path: "small.bin").path])
        let (smallGetStatus, smallGetPeak) = await PeakMemory.watch(smallGet, timeout: .seconds(60))
        #expect(smallGetStatus == 0, "\(smallGet.readStandardError())")
        let relayBefore = try #require(relay.processIdentifier.flatMap(PeakMemory.highWaterMark(pid:)))

        let source = alice.files.appending(path: "large.bin")
        try TestFiles.make(at: source, size: 256 << 20)
        let expected = try TestFiles.sha256(of: source)

        let started = ContinuousClock.now
        let send = try alice.launch(["file", "send"], ["bob", source.path])
        let (sendStatus, sendPeak) = await PeakMemory.watch(send, timeout: .seconds(240))
        let sent = ContinuousClock.now
        #expect(sendStatus == 0, "\(send.readStandardError())")

        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first { $0.id != smallID })
        #expect(listed.name == "large.bin")
        #expect(listed.size == 256 << 20)
        #expect(listed.sha256 == expected)
        #expect(listed.from == "alice")
        #expect(listed.room == nil)

        let output = bob.files.appending(path: "received.bin")
        let get = try bob.launch(["file", "get"], [listed.id, "--out", output.path])
        let (getStatus, getPeak) = await PeakMemory.watch(get, timeout: .seconds(240))
        #expect(getStatus == 0, "\(get.readStandardError())")
        #expect(try TestFiles.sha256(of: output) == expected)
        let relayPeak = try #require(relay.processIdentifier.flatMap(PeakMemory.highWaterMark(pid:)))

        print(
            "256 MiB: send \(sent - started), get \(ContinuousClock.now - sent); peak resident (1 KiB file, then 256 MiB):"
                + " sender \(smallSendPeak >> 20) then \(sendPeak >> 20) MiB, receiver \(smallGetPeak >> 20) then \(getPeak >> 20) MiB,"
                + " relay \(relayBefore >> 20) then \(relayPeak >> 20) MiB"
        )
        // Each client's own baseline (near 50 MiB for a debug build) is the 1 KiB transfer's
        // peak: what the large file may add is its chunks in flight and their buffers, flat
        // whatever the file's size.
        #expect(smallSendPeak > 0 && sendPeak - smallSendPeak < Self.clientGrowthLimit, "sender grew from \(smallSendPeak) to \(sendPeak) bytes")
        #expect(smallGetPeak > 0 && getPeak - smallGetPeak < Self.clientGrowthLimit, "receiver grew from \(smallGetPeak) to \(getPeak) bytes")
        // The relay is long-lived, with its own baseline (near 60 MiB in a debug build, with its
        // monitoring and store): what the file may add to it is its transfer buffers.
        #expect(relayPeak - relayBefore < Self.transferGrowthLimit, "relay grew by \(relayPeak - relayBefore) bytes")
        // Its only recipient has it: the relay deleted the blob.
        #expect(Self.blobFolders(relay).isEmpty)
    }

    @Test("an upload and a download killed mid-way both resume; the relay never holds the plaintext, name included")
    func interruptedTransfersResume() async throws {
        let (relay, alice, bob) = try await Self.twoUsers(relayArguments: ["--log-level", "trace"])
        let marker = "PLAINTEXT-MARKER-\(UUID().uuidString)"
        let source = alice.files.appending(path: "\(marker).bin")
        try TestFiles.make(at: source, size: 96 << 20, marker: marker)
        let expected = try TestFiles.sha256(of: source)

        let firstSend = try alice.launch(["file", "send"], ["bob", source.path])
        try await Self.waitUntil("16 chunks are stored") { Self.storedChunkCount(relay) >= 16 || firstSend.exitStatus != nil }
        firstSend.signal(SIGKILL)
        #expect(await firstSend.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL, "the upload finished before it was killed")
        let storedBefore = Self.storedChunkCount(relay)
        let folder = try #require(Self.blobFolders(relay).first)
        let chunksInode = TestFiles.inode(of: folder.appending(path: "chunks"))
        let firstChunks = try BlobFolders.prefix(of: folder, count: 16 * Self.encryptedChunkSize)
        #expect(firstChunks.count == 16 * Self.encryptedChunkSize)
        #expect(storedBefore < 384, "every chunk was stored before the kill")

        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        // The same blob, its stored chunks kept as they were: the upload continued.
        #expect(Self.blobFolders(relay) == [folder])
        #expect(TestFiles.inode(of: folder.appending(path: "chunks")) == chunksInode)
        #expect(try BlobFolders.prefix(of: folder, count: firstChunks.count) == firstChunks)
        #expect(Self.storedChunkCount(relay) == 384)
        #expect(FileScan.findings(of: [marker], in: FileScan.files(under: relay.dataDirectory) + relay.logFiles) == [])

        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        #expect(listed.sha256 == expected)
        let output = bob.files.appending(path: "received.bin")
        let partial = URL(filePath: output.path + ".cipherchat-partial")
        let firstGet = try bob.launch(["file", "get"], [listed.id, "--out", output.path])
        try await Self.waitUntil("16 MiB are downloaded") { TestFiles.size(of: partial) >= 16 << 20 || firstGet.exitStatus != nil }
        firstGet.signal(SIGKILL)
        #expect(await firstGet.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL, "the download finished before it was killed")
        #expect(!FileManager.default.fileExists(atPath: output.path))
        let partialInode = try #require(TestFiles.inode(of: partial))

        try await bob.run(["file", "get"], [listed.id, "--out", output.path]).requireSuccess()
        // The partial file became the output: the download continued in it.
        #expect(TestFiles.inode(of: output) == partialInode)
        #expect(try TestFiles.sha256(of: output) == expected)
        #expect(!FileManager.default.fileExists(atPath: partial.path))
        #expect(FileScan.findings(of: [marker], in: FileScan.files(under: relay.dataDirectory) + relay.logFiles) == [])
    }

    @Test("an upload and a download survive the relay being killed and restarted under them")
    func relayRestartMidTransfer() async throws {
        let (relay, alice, bob) = try await Self.twoUsers()
        let source = alice.files.appending(path: "restart.bin")
        try TestFiles.make(at: source, size: 128 << 20)
        let expected = try TestFiles.sha256(of: source)

        let send = try alice.launch(["file", "send"], ["bob", source.path])
        try await Self.waitUntil("8 chunks are stored") { Self.storedChunkCount(relay) >= 8 || send.exitStatus != nil }
        try await relay.kill()
        #expect(send.exitStatus == nil, "the upload finished before the relay was killed")
        try await relay.restart()
        #expect(await send.waitForExit(timeout: .seconds(180)) == 0, "\(send.readStandardError())")

        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        let output = bob.files.appending(path: "received.bin")
        let partial = URL(filePath: output.path + ".cipherchat-partial")
        let get = try bob.launch(["file", "get"], [listed.id, "--out", output.path])
        try await Self.waitUntil("4 MiB are downloaded") { TestFiles.size(of: partial) >= 4 << 20 || get.exitStatus != nil }
        try await relay.kill()
        #expect(get.exitStatus == nil, "the download finished before the relay was killed")
        try await relay.restart()
        #expect(await get.waitForExit(timeout: .seconds(180)) == 0, "\(get.readStandardError())")
        #expect(try TestFiles.sha256(of: output) == expected)
    }

    @Test("recv --json gives a file's id, name and size as fields; fetched a second time: 'already saved to PATH', not the relay's 'no such blob'")
    func fetchedTwice() async throws {
        let (relay, alice, bob) = try await Self.twoUsers()
        defer { withExtendedLifetime(relay) {} }
        let source = alice.files.appending(path: "once.bin")
        try TestFiles.make(at: source, size: 5_000)
        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        let offer = try #require(try await bob.receive().first)
        let id = try #require(try await bob.listFiles().first?.id)
        // recv --json names the file in fields of their own, not only inside its text.
        #expect(offer.kind == "file" && offer.fileID == id && offer.name == "once.bin" && offer.size == 5_000, "\(offer)")
        let saved = bob.files.appending(path: "once.bin")
        try await bob.run(["file", "get"], [id, "--out", saved.path]).requireSuccess()

        let elsewhere = bob.files.appending(path: "again.bin")
        let again = try await bob.run(["file", "get"], [id, "--out", elsewhere.path])
        #expect(again.status == 1, "\(again)")
        #expect(again.standardError.contains("already saved to \(saved.path)"), "\(again)")
        #expect(!FileManager.default.fileExists(atPath: elsewhere.path))
    }

    @Test("a chunk altered on the relay's disk is detected: the file is refused and nothing is kept")
    func alteredChunkIsRefused() async throws {
        let (relay, alice, bob) = try await Self.twoUsers()
        let source = alice.files.appending(path: "small.bin")
        try TestFiles.make(at: source, size: (1 << 20) + 100)
        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)

        // A byte inside chunk 2 (of 5) in the blob's chunks file.
        let chunks = Self.blobDirectory(of: relay).appending(path: listed.id).appending(path: "chunks")
        let offset = UInt64(2 * Self.encryptedChunkSize + 1000)
        let handle = try FileHandle(forUpdating: chunks)
        try handle.seek(toOffset: offset)
        let original = try #require(try handle.read(upToCount: 1)?.first)
        try handle.seek(toOffset: offset)
        try handle.write(contentsOf: [original ^ 0x01])
        try handle.close()

        let output = bob.files.appending(path: "received.bin")
        let result = try await bob.run(["file", "get"], [listed.id, "--out", output.path])
        #expect(result.status == 8, "\(result)")
        #expect(result.standardError.contains("failed its integrity check"), "\(result.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(!FileManager.default.fileExists(atPath: output.path + ".cipherchat-partial"))
    }

    @Test("the file size limit and the per-user quota refuse with clear errors; a fetched file frees its share")
    func limits() async throws {
        let (relay, alice, bob) = try await Self.twoUsers(relayArguments: ["--max-file-size", "300000", "--blob-quota", "700000"])
        defer { withExtendedLifetime(relay) {} }
        let large = alice.files.appending(path: "large.bin")
        try TestFiles.make(at: large, size: 300_001)
        let tooLarge = try await alice.run(["file", "send"], ["bob", large.path])
        #expect(tooLarge.status == 1)
        #expect(tooLarge.standardError.contains("files are limited to 300000 bytes (limit: file_size)"), "\(tooLarge.standardError)")

        var sent: [URL] = []
        for index in 0..<2 {
            let file = alice.files.appending(path: "part\(index).bin")
            try TestFiles.make(at: file, size: 250_000)
            try await alice.run(["file", "send"], ["bob", file.path]).requireSuccess()
            sent.append(file)
        }
        let third = alice.files.appending(path: "part2.bin")
        try TestFiles.make(at: third, size: 250_000)
        let overQuota = try await alice.run(["file", "send"], ["bob", third.path])
        #expect(overQuota.status == 1)
        #expect(overQuota.standardError.contains("your stored files are limited to 700000 bytes (limit: blob_quota)"), "\(overQuota.standardError)")

        #expect(try await bob.receive().map(\.kind) == ["file", "file"])
        let first = try #require(try await bob.listFiles().first)
        try await bob.run(["file", "get"], [first.id, "--out", bob.files.appending(path: "first.bin").path]).requireSuccess()
        try await alice.run(["file", "send"], ["bob", third.path]).requireSuccess()

        let unknown = try await bob.run(["file", "get"], ["ffffffffffffffff"])
        #expect(unknown.status == 1)
        #expect(unknown.standardError.contains("no received file with id ffffffffffffffff"))
    }
}
