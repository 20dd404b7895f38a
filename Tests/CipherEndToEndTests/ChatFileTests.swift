import CipherTesting
import Foundation
import Testing

/// Files in `cipherchat chat`, in a real terminal (tmux) against a real relay.
@Suite("Files in the terminal chat", RequiredTool.tmux.trait)
struct ChatFileTests {
    @Test("/file sends a file the other side can fetch; a file that arrives shows its name, size and id, and /get fetches it")
    func fileInTheChat() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let outgoing = alice.files.appending(path: "from-alice.bin")
        try TestFiles.make(at: outgoing, size: 300_000)
        let incoming = bob.files.appending(path: "from-bob.bin")
        try TestFiles.make(at: incoming, size: 12_345)

        let terminal = try alice.openChat(with: "bob", columns: 160)
        defer { terminal.kill() }
        try await terminal.waitFor(text: "connected")

        try terminal.enter("/file bob \(outgoing.path)")
        try await terminal.waitFor(text: "sent file from-alice.bin (300000 bytes) to bob id", timeout: .seconds(60))
        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        let saved = bob.files.appending(path: "saved.bin")
        try await bob.run(["file", "get"], [listed.id, "--out", saved.path]).requireSuccess()
        #expect(try TestFiles.sha256(of: saved) == TestFiles.sha256(of: outgoing))

        let sent = try await bob.run(["file", "send"], ["alice", incoming.path]).requireSuccess()
        let id = try #require(sent.standardOutput.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        try await terminal.waitFor(text: "file from-bob.bin (12345 bytes) id \(id)")

        // /get fetches it, as `file get` would, and says where it went.
        let fetched = alice.files.appending(path: "fetched.bin")
        try terminal.enter("/get \(id) \(fetched.path)")
        try await terminal.waitFor(text: "saved from-bob.bin (12345 bytes) to \(fetched.path)", timeout: .seconds(60))
        #expect(try TestFiles.sha256(of: fetched) == TestFiles.sha256(of: incoming))
        try terminal.enter("/get 0000ffff")
        try await terminal.waitFor(text: "could not fetch file 0000ffff:")

        try await terminal.quitChat()
    }

    @Test("file send and file get draw their progress on a terminal, and nothing when their output is not one")
    func progressOnTerminal() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let big = alice.files.appending(path: "big.bin")
        try TestFiles.make(at: big, size: 3 * 1024 * 1024)

        let sending = try alice.openShell(["file", "send", "bob", big.path])
        defer { sending.kill() }
        let sent = try await sending.waitFor(text: "EXIT=0", timeout: .seconds(120))
        let sentScreen = sent.joined(separator: "\n")
        #expect(sentScreen.contains("big.bin 100% [####################] 3.0/3.0 MiB"), "\(sentScreen)")
        #expect(sent.contains { $0.hasPrefix("sent big.bin (3145728 bytes) to bob id ") }, "\(sentScreen)")

        #expect(try await bob.receive().map(\.kind) == ["file"])
        let listed = try #require(try await bob.listFiles().first)
        let saved = bob.files.appending(path: "saved.bin")
        let getting = try bob.openShell(["file", "get", listed.id, "--out", saved.path])
        defer { getting.kill() }
        let got = try await getting.waitFor(text: "EXIT=0", timeout: .seconds(120))
        #expect(got.joined(separator: "\n").contains("big.bin 100% [####################] 3.0/3.0 MiB"), "\(got)")
        #expect(try TestFiles.sha256(of: saved) == TestFiles.sha256(of: big))

        // Piped, as from a script: only the result line, no progress.
        let again = alice.files.appending(path: "again.bin")
        try TestFiles.make(at: again, size: 1024 * 1024)
        let piped = try await alice.run(["file", "send"], ["bob", again.path]).requireSuccess()
        #expect(!piped.standardError.contains("%"), "\(piped.standardError)")
        #expect(piped.outputLines.count == 1)
    }
}
