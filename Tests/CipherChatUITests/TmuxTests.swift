#if os(Linux)  // as TmuxSession
import CipherTesting
import Foundation
import Testing

@Suite("The tmux harness itself, on cat", RequiredTool.tmux.trait)
struct TmuxSessionTests {
    @Test("keys typed reach the program, and the screen reads back what it printed")
    func typeAndCapture() async throws {
        let session = try TmuxSession("cat", columns: 40, rows: 10)
        defer { session.kill() }
        try session.type("hello tmux")
        try session.press("Enter")
        let screen = try await session.waitFor("cat's echo") { rows in rows.filter { $0 == "hello tmux" }.count == 2 }
        #expect(screen.count == 10)
        #expect(try session.cursor() == (column: 0, row: 2))
    }

    @Test("resize changes the window, and the end of the program is seen")
    func resizeAndExit() async throws {
        let session = try TmuxSession("cat", columns: 40, rows: 10)
        defer { session.kill() }
        try session.resize(columns: 30, rows: 6)
        try await session.waitFor("the new size") { $0.count == 6 }
        try session.press("C-d")
        let deadline = ContinuousClock.now + .seconds(5)
        while try !session.isDead(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try session.isDead())
    }
}

/// The full-screen chat driven through tmux, as a person would use it, against a scripted
/// backend in a host process (`ChatHost`). The same test against `cipherchat chat` and a real
/// relay comes once the client library exists.
@Suite(
    "The full-screen chat, end to end in tmux",
    RequiredTool.tmux.trait, .enabled(if: ChatHost.directory == nil),
    .serialized
)
struct FullScreenChatTests {
    final class Harness {
        let directory: URL
        let session: TmuxSession

        init(columns: Int = 100, rows: Int = 30, conversation: String? = "bob") throws {
            directory = FileManager.default.temporaryDirectory.appending(path: "cipherchat-ui-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: directory.appending(path: "inbox").path, contents: nil)
            var environment = [ChatHost.directoryVariable: directory.path]
            environment[ChatHost.conversationVariable] = conversation
            session = try TmuxSession(
                ChatHost.command(directory: directory), columns: columns, rows: rows, environment: environment)
        }

        /// Hands the backend an event line (see `ScriptedBackend`).
        func deliver(_ line: String) throws {
            let handle = try FileHandle(forWritingTo: directory.appending(path: "inbox"))
            defer { try? handle.close() }
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((line + "\n").utf8))
        }

        var sent: [String] {
            let text = (try? String(contentsOf: directory.appending(path: "outbox"), encoding: .utf8)) ?? ""
            return text.split(separator: "\n").map(String.init)
        }

        func waitUntilExited() async throws {
            let deadline = ContinuousClock.now + .seconds(10)
            while try !session.isDead() {
                guard ContinuousClock.now < deadline else { throw TmuxSession.Failure(description: "the chat did not exit") }
                try await Task.sleep(for: .milliseconds(50))
            }
        }

        func close() {
            session.kill()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    @Test("a conversation: sending, receiving while typing, editing, switching, errors, resize, quit")
    func conversation() async throws {
        let chat = try Harness()
        defer { chat.close() }
        let session = chat.session

        var screen = try await session.waitFor(text: "[with bob]")
        #expect(screen.count == 30)
        #expect(screen[29] == "[bob]")
        try chat.deliver("connected")
        try await session.waitFor(text: "[connected]")

        // Sending: the line goes to the backend and comes back as the user's own message.
        try session.type("hello bob")
        try session.press("Enter")
        screen = try await session.waitFor(text: "<alice> hello bob")
        #expect(chat.sent == ["send bob hello bob"])
        #expect(screen[29] == "[bob]")

        // A message arriving while the user types leaves the input line and cursor as they were.
        try session.type("draft in progress")
        try await session.waitFor(text: "[bob] draft in progress")
        try chat.deliver("message bob alice verified are you there?")
        screen = try await session.waitFor(text: "<bob✓> are you there?")
        #expect(screen[29] == "[bob] draft in progress")
        #expect(try session.cursor() == (column: 23, row: 29))

        // Editing keys.
        try session.press("C-a")
        try session.type(">")
        try await session.waitFor(text: "[bob] >draft in progress")
        #expect(try session.cursor() == (column: 7, row: 29))
        try session.press("End", "C-w")
        try await session.waitFor("ctrl-w") { $0[29] == "[bob] >draft in" }
        try session.press("Left", "Left", "BSpace")
        try await session.waitFor("backspace") { $0[29] == "[bob] >draft n" }
        try session.press("DC")
        try await session.waitFor("delete") { $0[29] == "[bob] >draft" }
        try session.press("C-u", "C-k")
        try session.type("x")
        try await session.waitFor("ctrl-u and ctrl-k") { $0[29] == "[bob] x" }
        try session.press("BSpace")
        try await session.waitFor("an empty line") { $0[29] == "[bob]" }

        // Another conversation's message marks its window in the status line until the user goes there.
        try chat.deliver("message carol alice unverified psst")
        try await session.waitFor(text: "[1:status 2:bob 3:carol*]")
        try session.type("/query carol")
        try session.press("Enter")
        screen = try await session.waitFor(text: "[with carol]")
        #expect(screen[28].contains("[1:status 2:bob 3:carol]"))
        #expect(screen.contains { $0.hasSuffix("<carol> psst") })
        #expect(!screen.contains { $0.contains("hello bob") })

        // Errors from the backend and from the parser are lines in the pane.
        try session.type("/msg nobody hi")
        try session.press("Enter")
        try await session.waitFor(text: "-!- not sent to nobody (\"hi\"): no such user")
        try session.type("/frobnicate")
        try session.press("Enter")
        try await session.waitFor(text: "-!- unknown command /frobnicate; /help lists commands")

        // /who lists the contacts.
        try session.type("/who")
        try session.press("Enter")
        try await session.waitFor(text: "-!- bob    fedcba9876543210  ✓ verified")

        // History: up brings back the last line.
        try session.press("Up")
        try await session.waitFor("history") { $0.last { !$0.isEmpty } == "[nobody] /who" }
        try session.press("C-u")
        try await session.waitFor("ctrl-u") { $0[29] == "[nobody]" }

        // A resize redraws everything at the new size.
        try session.resize(columns: 60, rows: 12)
        screen = try await session.waitFor("the resized screen") { $0.count == 12 && $0[10].hasPrefix(" [alice]") }
        #expect(screen[11] == "[nobody]")
        #expect(screen[10].contains("[with nobody]"))

        // Quit: the program ends and leaves the alternate screen.
        try session.type("/quit")
        try session.press("Enter")
        try await chat.waitUntilExited()
        #expect(try session.alternateScreen() == false)
    }

    @Test("a long input line scrolls sideways, keeping the cursor on screen")
    func longInput() async throws {
        let chat = try Harness(columns: 40, rows: 10)
        defer { chat.close() }
        let session = chat.session
        try await session.waitFor(text: "[with bob]")
        let text = (0..<6).map { "word\($0)" }.joined(separator: " ") + " the end"
        try session.type(text)
        var screen = try await session.waitFor(text: "the end")
        #expect(screen[9] == "[bob] " + text.suffix(33))
        #expect(try session.cursor() == (column: 39, row: 9))
        try session.press("Home")
        screen = try await session.waitFor(text: "[bob] word0")
        #expect(try session.cursor() == (column: 6, row: 9))
        try session.press("Enter")
        try await session.waitFor(text: "<alice> word0 word1")
        #expect(chat.sent == ["send bob \(text)"])
    }

    @Test("SIGTERM ends the chat with the terminal restored")
    func terminate() async throws {
        let chat = try Harness(conversation: nil)
        defer { chat.close() }
        let session = chat.session
        try await session.waitFor(text: "CipherChat as alice")
        #expect(try session.alternateScreen() == true)
        try session.signal(SIGTERM)
        try await chat.waitUntilExited()
        #expect(try session.alternateScreen() == false)
    }
}
#endif
