import Foundation
import Testing

/// What the plain commands print of text a peer chose: its messages and file names. A terminal
/// runs escape sequences and shows a line break as a new line, so a peer could clear the screen,
/// retitle the window, or forge an entry that looks like another user's verified message.
@Suite("A peer's text in command output", .timeLimit(.minutes(15)))
struct PeerTextOutputTests {
    /// ESC (sequences), BEL, CR, the C1 CSI and the bidirectional override.
    static let unsafe: [Unicode.Scalar] = ["\u{1B}", "\u{07}", "\r", "\u{9B}", "\u{202E}"]

    static func hasUnsafe(_ text: String) -> Bool {
        text.unicodeScalars.contains { unsafe.contains($0) }
    }

    @Test("recv prints a peer's escape sequences neutralised, and a newline in the text cannot start a forged line")
    func recvOutput() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let text = "hi\u{1B}[2J\u{1B}]0;owned\u{07}\n[2026-01-01 00:00:00] carol ✓: the meeting moved\u{202E}\r\u{9B}1A"
        try await alice.send(text, to: "bob")
        let received = try await bob.run("recv").requireSuccess()
        #expect(!Self.hasUnsafe(received.standardOutput), "\(received)")
        let lines = received.outputLines
        #expect(lines.count == 3, "\(received)")
        #expect(lines.first?.contains(" alice: hi\u{FFFD}[2J\u{FFFD}]0;owned\u{FFFD}") == true, "\(received)")
        // The forged entry is shown, indented under the real one: only entries start at the margin.
        #expect(lines.dropFirst().first?.hasPrefix("    [2026-01-01 00:00:00] carol") == true, "\(received)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") }, "\(received)")
        #expect(lines.filter { $0.hasPrefix("[") }.count == 1)
    }

    @Test("file list and file get print a sender's file name neutralised; --json keeps it exactly, escaped")
    func fileNames() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let name = "invoice\u{1B}[8m\u{202E}fdp.exe\u{9B}"
        let source = alice.files.appending(path: name)
        try TestFiles.make(at: source, size: 2_000)
        try await alice.run(["file", "send"], ["bob", source.path]).requireSuccess()
        #expect(try await bob.receive().map(\.kind) == ["file"])

        let list = try await bob.run(["file", "list"]).requireSuccess()
        #expect(!Self.hasUnsafe(list.standardOutput), "\(list)")
        #expect(list.standardOutput.contains("invoice\u{FFFD}[8m\u{FFFD}fdp.exe\u{FFFD}"), "\(list)")
        let json = try await bob.run(["file", "list"], ["--json"]).requireSuccess()
        #expect(!Self.hasUnsafe(json.standardOutput), "\(json)")
        let listed = try #require(try await bob.listFiles().first)
        #expect(listed.name == name)

        let get = try await bob.run(["file", "get"], [listed.id, "--out", bob.files.appending(path: "invoice.bin").path]).requireSuccess()
        #expect(!Self.hasUnsafe(get.standardOutput), "\(get)")
        #expect(get.standardOutput.contains("saved invoice\u{FFFD}[8m"), "\(get)")
    }
}
