import CipherTesting
import Foundation
import Testing

/// Rooms, files and the file quota with users on two relay instances of one service (one
/// PostgreSQL, one shared blob directory), driven with the real binaries: they behave as on
/// one instance.
@Suite("Rooms, files and limits across relay instances on one PostgreSQL", RequiredTool.postgres.trait, RequiredTool.haproxy.trait, .timeLimit(.minutes(15)))
struct SeveralInstancesRoomsAndFilesTests {
    /// How long a message pushed across instances may take to reach a connected member, on a
    /// machine busy with other work (it normally takes milliseconds).
    static let pushDeadline = Duration.seconds(30)

    @Test("a room with members on both instances: each message reaches every other member once, an offline member catches up, a removed member reads nothing after, both instances list the same members")
    func roomAcrossInstances() async throws {
        let service = try await SeveralInstances()
        let alice = try await service.user("alice", on: 0)
        let bob = try await service.user("bob", on: 1)
        let carol = try await service.user("carol", on: 1)
        let (fromAlice, fromBob, fromCarol) = ("alice on the first \(UUID())", "bob on the second \(UUID())", "carol on the second \(UUID())")
        let (afterRemovalFromAlice, afterRemovalFromBob) = ("AFTER-REMOVAL-alice-\(UUID())", "AFTER-REMOVAL-bob-\(UUID())")

        try await alice.room(["create", "#team"]).requireSuccess()
        try await alice.room(["invite", "#team", "bob"]).requireSuccess()
        try await alice.room(["invite", "#team", "carol"]).requireSuccess()

        // Bob is connected to the second instance when Alice writes through the first; Carol
        // stays offline until three messages are waiting for her.
        var got: [String: [RoomLine]] = [:]
        let outputs = try TemporaryDirectory(prefix: "follow")
        let loginsBefore = service.instances[1].successfulLogins
        let follower = try bob.follow(outputIn: outputs)
        defer { follower.signal(SIGKILL) }
        try await follower.waitUntilLoggedIn(on: service.instances[1], loginsBefore: loginsBefore)
        try await alice.send(fromAlice, to: "#team")
        let pushed = try await follower.waitForOutputLines(within: Self.pushDeadline) { lines in
            lines.contains { $0.contains(fromAlice) }
        }
        follower.signal(SIGKILL)
        _ = await follower.waitForExit(timeout: .seconds(10))
        got["bob"] = try pushed.map { try RoomLine(jsonLine: $0) }
        #expect(got["bob"]?.contains { $0.kind == "membership" && $0.action == "invite" && $0.member == "bob" } == true)

        try await bob.send(fromBob, to: "#team")
        got["alice"] = try await alice.receiveLines().lines
        got["carol"] = try await carol.receiveLines().lines
        #expect(Self.texts(got["carol"]) == [fromAlice, fromBob], "carol, offline, caught up with \(Self.texts(got["carol"]))")
        try await carol.send(fromCarol, to: "#team")
        got["alice", default: []] += try await alice.receiveLines().lines
        got["bob", default: []] += try await bob.receiveLines().lines

        // Every message reached every member but its sender, once; nothing more is queued.
        #expect(Self.texts(got["alice"]) == [fromBob, fromCarol])
        #expect(Self.texts(got["bob"]) == [fromAlice, fromCarol])
        for (user, lines) in got {
            #expect(Set(lines.map(\.id)).count == lines.count, "\(user) got a message twice: \(lines)")
        }
        for user in [alice, bob, carol] {
            #expect(try await user.receiveLines().lines.isEmpty, "\(user.username) had more")
            // Each checks the membership its own instance hands out.
            #expect(try await user.room(["members", "#team"]).requireSuccess().outputLines == ["alice admin", "bob", "carol"])
        }

        // Alice, on the first instance, removes Carol, on the second.
        try await alice.room(["remove", "#team", "carol"]).requireSuccess()
        let removal = try await carol.receiveLines().lines
        #expect(removal.contains { $0.action == "remove" && $0.member == "carol" }, "carol saw \(removal)")
        try await alice.send(afterRemovalFromAlice, to: "#team")
        #expect(Self.texts(try await bob.receiveLines().lines) == [afterRemovalFromAlice])
        try await bob.send(afterRemovalFromBob, to: "#team")
        #expect(Self.texts(try await alice.receiveLines().lines) == [afterRemovalFromBob])
        let atCarol = try await carol.receiveLines()
        #expect(!atCarol.lines.contains { $0.kind == "text" }, "carol got \(atCarol)")
        #expect(!(atCarol.lines.map(\.text).joined() + atCarol.warnings).contains("AFTER-REMOVAL"))
        #expect(try await carol.room(["list"]).requireSuccess().outputLines == [])
        #expect(try await carol.run("send", ["#team", "still here?"]).status != 0)
        #expect(try await alice.room(["members", "#team"]).requireSuccess().outputLines == ["alice admin", "bob"])
        #expect(try await bob.room(["members", "#team"]).requireSuccess().outputLines == ["alice admin", "bob"])
    }

    @Test("a file sent through one instance is listed and fetched intact through the other, to a user and to a room; its chunks wait in the shared blob directory until every recipient has it")
    func filesAcrossInstances() async throws {
        let service = try await SeveralInstances()
        let alice = try await service.user("alice", on: 0)
        let bob = try await service.user("bob", on: 1)
        let carol = try await service.user("carol", on: 0)

        // Alice uploads through the first instance; Bob fetches through the second.
        let report = alice.files.appending(path: "report.bin")
        try TestFiles.make(at: report, size: (1 << 20) + 100)
        let reportDigest = try TestFiles.sha256(of: report)
        try await alice.run(["file", "send"], ["bob", report.path]).requireSuccess()
        // 256 KiB chunks: five, all in the shared directory, none in an instance's own.
        #expect(service.storedChunkCount() == 5)
        for instance in service.instances {
            #expect(FileScan.files(under: instance.dataDirectory).filter { ["chunks", "stored"].contains($0.lastPathComponent) }.isEmpty)
        }
        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        #expect(listed.name == "report.bin" && listed.from == "alice" && listed.room == nil)
        #expect(listed.size == (1 << 20) + 100 && listed.sha256 == reportDigest)
        let fetched = bob.files.appending(path: "report.bin")
        try await bob.run(["file", "get"], [listed.id, "--out", fetched.path]).requireSuccess()
        #expect(try TestFiles.sha256(of: fetched) == reportDigest)
        // Its only recipient has it: the second instance deleted what the first stored.
        #expect(service.blobFolders().isEmpty)

        // A file to a room whose members are on both instances.
        try await alice.room(["create", "#files"]).requireSuccess()
        try await alice.room(["invite", "#files", "bob"]).requireSuccess()
        try await alice.room(["invite", "#files", "carol"]).requireSuccess()
        let slides = alice.files.appending(path: "slides.bin")
        try TestFiles.make(at: slides, size: 700_000)
        let slidesDigest = try TestFiles.sha256(of: slides)
        try await alice.run(["file", "send"], ["#files", slides.path]).requireSuccess()
        #expect(service.storedChunkCount() == 3)
        for (user, name) in [(bob, "slides-at-bob.bin"), (carol, "slides-at-carol.bin")] {
            let lines = try await user.receiveLines().lines
            #expect(lines.filter { $0.kind == "file" }.map(\.room) == ["#files"], "\(user.username) got \(lines)")
            let file = try #require(try await user.listFiles().first { $0.room == "#files" })
            #expect(file.name == "slides.bin" && file.from == "alice" && file.sha256 == slidesDigest)
            let output = user.files.appending(path: name)
            try await user.run(["file", "get"], [file.id, "--out", output.path]).requireSuccess()
            #expect(try TestFiles.sha256(of: output) == slidesDigest)
            // Kept until the last recipient has it, whichever instance each fetched through.
            #expect(service.storedChunkCount() == (user === bob ? 3 : 0))
            #expect(service.blobFolders().count == (user === bob ? 1 : 0))
        }
    }

    @Test("an upload and a download cut off by their instance's death resume through the other instance")
    func transfersResumeOnTheOtherInstance() async throws {
        let service = try await SeveralInstances()
        let proxy = try service.proxyEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: proxy).requireSuccess()
        try await bob.initialize(on: proxy).requireSuccess()
        let source = alice.files.appending(path: "video.bin")
        try TestFiles.make(at: source, size: 64 << 20)
        let expected = try TestFiles.sha256(of: source)

        // Each transfer is held still mid-way while the instance serving it is killed, then
        // goes on by itself.
        var loginsBefore = service.instances.map(\.successfulLogins)
        let send = try alice.launch(["file", "send"], ["bob", source.path])
        defer { send.signal(SIGKILL) }
        let blobs = service.blobDirectory
        try #require(await send.suspend { BlobFolders.storedChunkCount(under: blobs) >= 8 }, "the upload finished before it could be held: \(send.readStandardError())")
        let uploading = try #require(service.instances.indices.first { service.instances[$0].successfulLogins > loginsBefore[$0] })
        let folder = try #require(service.blobFolders().first)
        let chunksInode = TestFiles.inode(of: folder.appending(path: "chunks"))
        let storedBefore = service.storedChunkCount()
        let firstChunks = try BlobFolders.prefix(of: folder, count: storedBefore * BlobFolders.encryptedChunkSize)
        #expect(storedBefore < 256, "every chunk was stored before the kill")
        try await service.instances[uploading].kill()
        send.signal(SIGCONT)
        #expect(await send.waitForExit(timeout: .seconds(180)) == 0, "\(send.readStandardError())")
        // The survivor went on from the chunks the dead instance had stored, kept as they were.
        #expect(service.blobFolders() == [folder])
        #expect(TestFiles.inode(of: folder.appending(path: "chunks")) == chunksInode)
        #expect(try BlobFolders.prefix(of: folder, count: firstChunks.count) == firstChunks)
        try await service.instances[uploading].restart()

        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        let output = bob.files.appending(path: "video.bin")
        let partial = URL(filePath: output.path + ".cipherchat-partial")
        loginsBefore = service.instances.map(\.successfulLogins)
        let get = try bob.launch(["file", "get"], [listed.id, "--out", output.path])
        defer { get.signal(SIGKILL) }
        try #require(await get.suspend { TestFiles.size(of: partial) >= 4 << 20 }, "the download finished before it could be held: \(get.readStandardError())")
        let downloading = try #require(service.instances.indices.first { service.instances[$0].successfulLogins > loginsBefore[$0] })
        #expect(TestFiles.size(of: partial) < 64 << 20, "the whole file was downloaded before the kill")
        try await service.instances[downloading].kill()
        get.signal(SIGCONT)
        #expect(await get.waitForExit(timeout: .seconds(180)) == 0, "\(get.readStandardError())")
        #expect(try TestFiles.sha256(of: output) == expected)
        #expect(service.blobFolders().isEmpty)
    }

    @Test("the per-user file quota counts a user's files uploaded through every instance; a file fetched through either frees its share")
    func quotaAcrossInstances() async throws {
        let service = try await SeveralInstances(relayArguments: ["--blob-quota", "700000"])
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        // Alice goes through HAProxy, whose round robin puts her uploads on both instances.
        try await alice.initialize(on: try service.proxyEndpoint()).requireSuccess()
        try await bob.initialize(on: try service.instances[1].requireEndpoint()).requireSuccess()

        var accepted: [Int] = []
        for index in 0..<2 {
            let part = alice.files.appending(path: "part\(index).bin")
            try TestFiles.make(at: part, size: 250_000)
            accepted += try await service.instancesServing {
                try await alice.run(["file", "send"], ["bob", part.path]).requireSuccess()
            }
        }
        try #require(Set(accepted) == [0, 1], "the uploads did not go through both instances: \(accepted)")

        // 500,000 bytes stored, on the two instances together: 250,000 more is over 700,000
        // through either instance.
        let third = alice.files.appending(path: "part2.bin")
        try TestFiles.make(at: third, size: 250_000)
        var refusals: [Int] = []
        for _ in service.instances {
            refusals += try await service.instancesServing {
                let refused = try await alice.run(["file", "send"], ["bob", third.path])
                #expect(refused.status == 1)
                #expect(refused.standardError.contains("your stored files are limited to 700000 bytes (limit: blob_quota)"), "\(refused.standardError)")
            }
        }
        #expect(Set(refusals) == [0, 1], "the refused uploads did not go through both instances: \(refusals)")

        #expect(try await bob.receive().map(\.kind) == ["file", "file"])
        let first = try #require(try await bob.listFiles().first)
        try await bob.run(["file", "get"], [first.id, "--out", bob.files.appending(path: "first.bin").path]).requireSuccess()
        try await alice.run(["file", "send"], ["bob", third.path]).requireSuccess()
    }

    @Test("an instance on PostgreSQL keeping files' chunks in its own data directory says at start that instances must share one")
    func unsharedBlobDirectoryIsReported() async throws {
        let cluster = try PostgresCluster.shared()
        let own = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase()])
        let shared = try TemporaryDirectory(prefix: "blobs")
        let sharing = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase(), "--blob-dir", shared.url.path])
        let notice = "every instance on this database must share one --blob-dir"
        #expect(own.readLogs().contains(notice), "\(own.readLogs())")
        #expect(!sharing.readLogs().contains(notice))
    }

    private static func texts(_ lines: [RoomLine]?) -> [String] {
        (lines ?? []).filter { $0.kind == "text" }.map(\.text)
    }
}
