@testable import CipherClient
import CipherCore
import CipherTesting
import Foundation
import Testing

/// A download writes only the file it was asked for: never through a link planted where its
/// partial file goes, never over an entry that is already there (ChatClient+FileDownload.swift,
/// PartialFile.swift). Driven through a real relay in this process.
@Suite("Where a download writes", .serialized)
struct DownloadPlacementTests {
    /// Alice sends bob a small file; bob has its offer. The directory is removed by the caller.
    static func offered(_ relay: TestRelay, directory: URL) async throws -> (bob: ChatClient, alice: ChatClient, file: ReceivedFile, content: Data) {
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        let content = Data(SeededRandomSource(seed: "placement").bytes(3_000))
        let source = directory.appendingPathComponent("source.bin")
        try content.write(to: source)
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        _ = try await alice.sendFile(at: source.path, to: "bob")
        #expect(await events.wait { await $0.messages.contains { $0.kind == "file" } })
        let file = try #require(try await bob.receivedFiles().first)
        return (bob, alice, file, content)
    }

    static func temporaryDirectory(_ name: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func failure(_ body: () async throws -> Void) async -> FileTransferError? {
        do {
            try await body()
            return nil
        } catch let error as FileTransferError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    static func isSymbolicLink(_ path: String) -> Bool {
        (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeSymbolicLink
    }

    @Test("a planted NAME.cipherchat-partial link (or hard link) to a file outside is not written through; then the download works")
    func plantedPartialLink() async throws {
        let relay = try await TestRelay.start()
        let directory = try Self.temporaryDirectory("placement")
        let outside = try Self.temporaryDirectory("outside")
        defer { try? FileManager.default.removeItem(at: directory); try? FileManager.default.removeItem(at: outside) }
        let (bob, alice, file, content) = try await Self.offered(relay, directory: directory)

        let victim = outside.appendingPathComponent("victim").path
        let victimContent = Data("the user's own file, which must not change\n".utf8)
        try victimContent.write(to: URL(fileURLWithPath: victim))
        let output = directory.appendingPathComponent("report.pdf").path
        let partial = output + ChatClient.partialSuffix

        try FileManager.default.createSymbolicLink(atPath: partial, withDestinationPath: victim)
        #expect(await Self.failure { try await bob.downloadFile(id: file.id, to: output) } == .unsafePartial(partial))
        #expect(FileManager.default.contents(atPath: victim) == victimContent)
        #expect(!FileManager.default.fileExists(atPath: output))
        #expect(Self.isSymbolicLink(partial))

        // A hard link names the same file: writing to it would change the victim as well.
        try FileManager.default.removeItem(atPath: partial)
        try FileManager.default.linkItem(atPath: victim, toPath: partial)
        #expect(await Self.failure { try await bob.downloadFile(id: file.id, to: output) } == .unsafePartial(partial))
        #expect(FileManager.default.contents(atPath: victim) == victimContent)

        // With the plant gone, the same download goes through.
        try FileManager.default.removeItem(atPath: partial)
        try await bob.downloadFile(id: file.id, to: output)
        #expect(FileManager.default.contents(atPath: output) == content)
        #expect(FileManager.default.contents(atPath: victim) == victimContent)
        #expect(!FileManager.default.fileExists(atPath: partial))
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("an existing NAME, a file or a dangling link, is never replaced, with a planted partial link beside it")
    func existingName() async throws {
        let relay = try await TestRelay.start()
        let directory = try Self.temporaryDirectory("placement")
        let outside = try Self.temporaryDirectory("outside")
        defer { try? FileManager.default.removeItem(at: directory); try? FileManager.default.removeItem(at: outside) }
        let (bob, alice, file, _) = try await Self.offered(relay, directory: directory)
        let victim = outside.appendingPathComponent("victim").path
        let victimContent = Data("outside\n".utf8)
        try victimContent.write(to: URL(fileURLWithPath: victim))

        let existing = directory.appendingPathComponent("notes.txt").path
        let existingContent = Data("already here\n".utf8)
        try existingContent.write(to: URL(fileURLWithPath: existing))
        try FileManager.default.createSymbolicLink(atPath: existing + ChatClient.partialSuffix, withDestinationPath: victim)
        #expect(await Self.failure { try await bob.downloadFile(id: file.id, to: existing) } == .outputExists(existing))
        #expect(FileManager.default.contents(atPath: existing) == existingContent)
        #expect(FileManager.default.contents(atPath: victim) == victimContent)

        // A link to nowhere is an entry too: a check that follows links misses it.
        let dangling = directory.appendingPathComponent("dangling.txt").path
        let nowhere = outside.appendingPathComponent("created-by-download").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: nowhere)
        #expect(await Self.failure { try await bob.downloadFile(id: file.id, to: dangling) } == .outputExists(dangling))
        #expect(Self.isSymbolicLink(dangling))
        #expect(!FileManager.default.fileExists(atPath: nowhere))
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("naming the finished file fails when the name appeared during the download: nothing is replaced")
    func nameAppearsDuringDownload() throws {
        let directory = try Self.temporaryDirectory("placement")
        defer { try? FileManager.default.removeItem(at: directory) }
        let partial = directory.appendingPathComponent("file.bin" + ChatClient.partialSuffix).path
        let target = directory.appendingPathComponent("file.bin").path
        try Data("downloaded".utf8).write(to: URL(fileURLWithPath: partial))
        try Data("made meanwhile".utf8).write(to: URL(fileURLWithPath: target))
        #expect(throws: FileTransferError.outputExists(target)) { try PartialFile.place(partial, at: target) }
        #expect(FileManager.default.contents(atPath: target) == Data("made meanwhile".utf8))
        #expect(FileManager.default.contents(atPath: partial) == Data("downloaded".utf8))

        try FileManager.default.removeItem(atPath: target)
        try PartialFile.place(partial, at: target)
        #expect(FileManager.default.contents(atPath: target) == Data("downloaded".utf8))
        #expect(!FileManager.default.fileExists(atPath: partial))
    }
}
