import CipherTesting
import Foundation
import Testing

/// A relay whose disk fills up, driven with the real binaries on a small tmpfs the test mounts:
/// the files' blob directory during an upload (and the same directory made read-only), and the
/// SQLite store's data directory under a conversation. The sender is refused at once and retryably (`store_unavailable`, exit 9,
/// "the relay's disk is full"), the relay keeps running, nothing acknowledged is lost, the
/// work completes once there is room again, and SIGTERM while the disk is full stops the relay
/// with exit 0 within its grace period.
@Suite("The relay with a full or read-only disk", SmallFilesystem.rootTrait, .timeLimit(.minutes(15)))
struct FullDiskTests {
    /// Far above a refusal (a write failing at once), far below a sender waiting for ever.
    static let answerBound = Duration.seconds(40)
    /// Far above a stop that works (the grace period), far below one that hangs until killed.
    static let stopBound = Duration.seconds(30)
    static let diskFullText = "the relay's disk is full"

    @Test("the blob directory full during an upload: exit 9 naming the full disk; run again once there is room, the upload resumes and completes")
    func blobDirectoryFull() async throws {
        let filesystem = try SmallFilesystem(megabytes: 8)
        defer { filesystem.unmount() }
        let blobs = filesystem.url.appending(path: "blobs")
        let relay = try await RelayProcess(arguments: ["--blob-dir", blobs.path, "--shutdown-grace-seconds", "5"])
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let source = alice.files.appending(path: "report.bin")
        try TestFiles.make(at: source, size: 3 << 20)
        let expected = try TestFiles.sha256(of: source)

        // Room for a few of its chunks: the upload stores some, then meets the full disk.
        try filesystem.fill(leaving: 1 << 20)
        let bound = Patience.scaled(Self.answerBound)
        let started = ContinuousClock.now
        let refused = try await alice.run(["file", "send"], ["bob", source.path])
        let took = ContinuousClock.now - started
        #expect(refused.status == 9, "\(refused)")
        #expect(refused.standardError.contains("store_unavailable: \(Self.diskFullText)"), "\(refused)")
        #expect(refused.standardError.contains("run the same command again later: it resumes where it stopped"), "\(refused)")
        #expect(took < bound, "the refusal took \(took)")
        #expect(relay.processIdentifier != nil, "the relay exited:\n\(relay.readLogs())")
        let logs = relay.readLogs()
        #expect(logs.contains("the store's disk is full") && logs.contains("operation=files"), "\(logs)")

        try filesystem.free()
        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        // The same blob, taken up again: a new upload would have made a second folder.
        #expect(BlobFolders.folders(under: blobs).count == 1, "\(BlobFolders.folders(under: blobs))")
        let offers = try await bob.receive()
        #expect(offers.count == 1 && offers.first?.kind == "file", "\(offers)")
        let id = try #require(offers.first?.fileID)
        let saved = bob.files.appending(path: "report.bin")
        try await bob.run(["file", "get"], [id, "--out", saved.path]).requireSuccess()
        #expect(try TestFiles.sha256(of: saved) == expected)

        // SIGTERM with the blob directory full and an upload refused.
        let second = alice.files.appending(path: "second.bin")
        try TestFiles.make(at: second, size: 1 << 20)
        try filesystem.fill()
        #expect(try await alice.run(["file", "send"], ["bob", second.path]).status == 9)
        try await Self.expectPromptStop(relay)
    }

    @Test("the blob directory made read-only: an upload is refused as store_unavailable with exit 9 and the cause logged; writable again, it completes")
    func blobDirectoryReadOnly() async throws {
        let filesystem = try SmallFilesystem(megabytes: 8)
        defer { filesystem.unmount() }
        let blobs = filesystem.url.appending(path: "blobs")
        let relay = try await RelayProcess(arguments: ["--blob-dir", blobs.path])
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let source = alice.files.appending(path: "notes.bin")
        try TestFiles.make(at: source, size: 600_000)

        try filesystem.setReadOnly(true)
        let refused = try await alice.run(["file", "send"], ["bob", source.path])
        #expect(refused.status == 9, "\(refused)")
        #expect(refused.standardError.contains("store_unavailable: the relay cannot store anything now; try again later"), "\(refused)")
        #expect(relay.processIdentifier != nil, "the relay exited:\n\(relay.readLogs())")
        let logs = relay.readLogs()
        #expect(logs.contains("the store's files cannot be written") && logs.contains("operation=files"), "\(logs)")
        #expect(!logs.contains("a store operation failed"), "\(logs)")

        try filesystem.setReadOnly(false)
        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        let offers = try await bob.receive()
        let id = try #require(offers.first?.fileID, "\(offers)")
        let saved = bob.files.appending(path: "notes.bin")
        try await bob.run(["file", "get"], [id, "--out", saved.path]).requireSuccess()
        #expect(try TestFiles.sha256(of: saved) == TestFiles.sha256(of: source))
    }

    @Test("SQLite's disk full: sends refused as store_unavailable and kept, the relay keeps running, each message arrives once there is room")
    func sqliteDiskFull() async throws {
        let filesystem = try SmallFilesystem(megabytes: 16)
        defer { filesystem.unmount() }
        let relay = try await RelayProcess(
            arguments: ["--shutdown-grace-seconds", "5"], dataDirectory: filesystem.url.appending(path: "data")
        )
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before the disk filled", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["before the disk filled"])

        try filesystem.fill()
        // Sends until the store refuses one: the write-ahead log may still have room for a few.
        // Large messages, so that it fills within a few.
        var sent: [String] = []
        var refusal: CommandResult?
        for number in 0..<Self.maxSendsUntilRefused where refusal == nil {
            let text = "message \(number) " + String(repeating: "x", count: 60_000)
            let bound = Patience.scaled(Self.answerBound)
            let started = ContinuousClock.now
            let result = try await alice.run("send", ["--timeout", "60", "bob", text])
            let took = ContinuousClock.now - started
            #expect(took < bound, "send \(number) took \(took)")
            sent.append(text)
            if result.status != 0 { refusal = result }
        }
        let refused = try #require(refusal, "the relay acknowledged \(sent.count) messages on a full disk")
        #expect(refused.status == 9, "\(refused)")
        #expect(refused.standardError.contains("store_unavailable: \(Self.diskFullText)"), "\(refused)")
        #expect(refused.standardError.contains(DatabaseOutageTests.keptText), "\(refused)")
        #expect(relay.processIdentifier != nil, "the relay exited:\n\(relay.readLogs())")
        let logs = relay.readLogs()
        #expect(logs.contains("the store's disk is full") && logs.contains("operation=send"), "\(logs)")
        #expect(!logs.contains("a store operation failed"), "a full disk was taken for a fault:\n\(logs)")

        // Room again, the same relay: a command that connects sends the outbox, and bob gets
        // every message once, the acknowledged ones and the refused one.
        try filesystem.free()
        var texts: [String] = []
        let deadline = Patience.deadline(.seconds(90))
        while ContinuousClock.now < deadline, texts.count < sent.count {
            _ = try await alice.run("fingerprint", ["bob"])
            texts += (try? await bob.receive())?.map(\.text) ?? []
            if texts.count < sent.count { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(texts.sorted() == sent.sorted(), "bob got \(texts.map { $0.prefix(12) }) of \(sent.map { $0.prefix(12) })")
        try await alice.send("after the disk had room again", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["after the disk had room again"])

        // SIGTERM with the disk full and a send refused.
        try filesystem.fill()
        var stillRoom = true
        for number in 0..<Self.maxSendsUntilRefused where stillRoom {
            let text = "during the stop \(number) " + String(repeating: "y", count: 60_000)
            stillRoom = try await alice.run("send", ["--timeout", "60", "bob", text]).status == 0
        }
        #expect(!stillRoom, "the relay kept acknowledging on a full disk")
        try await Self.expectPromptStop(relay)
    }

    /// How many sends on a full disk may still find room in SQLite's write-ahead log.
    static let maxSendsUntilRefused = 30

    /// SIGTERM: the relay exits 0 within its grace period, its store closed.
    static func expectPromptStop(_ relay: RelayProcess) async throws {
        let bound = Patience.scaled(stopBound)
        let stopping = ContinuousClock.now
        let status = try await relay.stop(timeout: bound)
        let took = ContinuousClock.now - stopping
        #expect(status == 0, "the relay exited \(status):\n\(relay.readLogs())")
        #expect(took < bound, "the relay took \(took) to stop")
        // Closing the store is not held up by the full disk, nor fails on it.
        let logs = relay.readLogs()
        #expect(!logs.contains("closing the store failed") && !logs.contains("did not close within the grace period"), "\(logs)")
    }
}
