@testable import CipherClient
import CipherCore
import Foundation
import Testing

/// A resumed upload seals the file again under the same key and nonces: it may go on only if
/// what it seals is what was already let out (SentChunkDigest), else a nonce would be reused.
@Suite("Resuming an upload")
struct UploadResumeTests {
    /// A relay, alice (connected) and bob, and a path for alice's file.
    private static func aliceWithFile() async throws -> (TestRelay, ChatClient, String) {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        _ = try await relay.makeUser("bob")
        try await alice.start(receiving: false)
        return (relay, alice, FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString).bin").path)
    }

    @Test("a file rewritten in place with its size, inode and modification time kept starts a new blob under a new key")
    func rewrittenFileStartsOver() async throws {
        let (relay, alice, path) = try await Self.aliceWithFile()
        defer { unlink(path) }
        let size = ChatClient.fileChunkSize * 3 + 1000
        try Data(repeating: 0x41, count: size).write(to: URL(fileURLWithPath: path))
        var before = stat()
        #expect(stat(path, &before) == 0)

        // Uploaded, and not yet forgotten: what a client killed before its offer went out keeps.
        let first = try await alice.uploadFile(at: path, recipients: ["bob"], room: nil)

        // The same bytes count, the same inode, the modification time put back.
        let rewritten = Data(repeating: 0x42, count: size)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: rewritten)
        try handle.close()
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        var after = stat()
        #expect(stat(path, &after) == 0)
        #expect(after.st_ino == before.st_ino && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec && after.st_size == before.st_size)

        let second = try await alice.uploadFile(at: path, recipients: ["bob"], room: nil)
        #expect(second.blobID != first.blobID, "the changed file was resumed under the first upload's key")
        #expect(second.manifest.sha256 != first.manifest.sha256)
        #expect(try await alice.uploadProgress(Hex.encode(first.blobID)) == nil)
        await alice.close()
        await relay.stop()
    }

    @Test("an unchanged file resumes the same blob")
    func unchangedFileResumes() async throws {
        let (relay, alice, path) = try await Self.aliceWithFile()
        defer { unlink(path) }
        try Data(repeating: 0x43, count: ChatClient.fileChunkSize * 2 + 5).write(to: URL(fileURLWithPath: path))
        let first = try await alice.uploadFile(at: path, recipients: ["bob"], room: nil)
        let again = try await alice.uploadFile(at: path, recipients: ["bob"], room: nil)
        #expect(again.blobID == first.blobID)
        #expect(again.manifest == first.manifest)
        await alice.close()
        await relay.stop()
    }

    @Test("a FIFO named as the file to send is refused at once, not waited on")
    func fifoRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        #expect(throws: FileTransferError.unreadable(path)) { _ = try FileSnapshot(path: path) }
    }
}
