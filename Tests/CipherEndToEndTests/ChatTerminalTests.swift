import CipherTesting
import Foundation
import Testing

/// `cipherchat chat` in a real terminal (tmux) against a real relay, used as a person would:
/// typing, reading the screen, while the other party uses the plain commands.
@Suite("The terminal chat against a relay", RequiredTool.tmux.trait)
struct ChatTerminalTests {
    @Test("a message typed in the chat arrives, and a reply appears while the user is typing")
    func chatWithRelay() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        let terminal = try alice.openChat(with: "bob")
        defer { terminal.kill() }
        try await terminal.waitFor(text: "connected")

        try terminal.enter("hello bob, typed in the chat")
        // The sent line appears in alice's pane once the relay has stored it.
        try await terminal.waitFor(text: "hello bob, typed in the chat")
        let received = try await bob.receive()
        #expect(received.map(\.text) == ["hello bob, typed in the chat"])

        // Alice starts typing; bob's reply arrives meanwhile and her half-typed line survives.
        try terminal.type("half a thought")
        try await bob.send("reply from bob", to: "alice")
        let screen = try await terminal.waitFor(text: "reply from bob")
        #expect(screen.last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }?.contains("half a thought") == true)

        try terminal.press("C-u")
        try await terminal.quitChat()
    }
}

/// `TERM=dumb`: a terminal that moves no cursor gets the plain, line-by-line chat.
@Suite("The chat on a dumb terminal", RequiredTool.tmux.trait)
struct DumbTerminalChatTests {
    @Test("with TERM=dumb the chat prints plain lines and reads commands line by line, with no full-screen status line")
    func plainOnDumbTerminal() async throws {
        let relay = try await RelayProcess()
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("hello", to: "bob")
        let command = "env TERM=dumb \(try CipherBinary.url().path) chat --home \(alice.home.path) --with bob"
        let terminal = try TmuxSession(command, columns: 100, rows: 20, environment: [
            "CIPHERCHAT_PASSPHRASE": alice.passphrase, "CIPHERCHAT_SCRYPT_LOG_N": UserHome.scryptLogN,
        ])
        defer { terminal.kill() }
        try terminal.enter("/who")
        let screen = try await terminal.waitFor(text: "-!- bob")
        #expect(!screen.contains { $0.contains("with bob") }, "\(screen.joined(separator: "\n"))")
        try await terminal.quitChat()
    }
}

/// The open chat owns the home: a `cipherchat send` from another terminal goes through it.
@Suite("The chat as the home's owner", RequiredTool.tmux.trait)
struct ChatOwnerTests {
    @Test("a message sent from another terminal while the chat is open goes through the chat and shows in it; reopened, the chat shows it again")
    func sendThroughOpenChat() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let terminal = try alice.openChat(with: "bob")
        defer { terminal.kill() }
        try await terminal.waitFor(text: "connected")

        // A wrong passphrase: the send cannot open the store itself, only ask the chat.
        for index in 1...3 {
            try await alice.run("send", ["bob", "from a script \(index)"], passphrase: "wrong passphrase").requireSuccess()
        }
        try await terminal.waitFor(text: "from a script 3")
        let received = try await bob.receive()
        #expect(received.map(\.text) == (1...3).map { "from a script \($0)" })

        try await terminal.quitChat()

        // Opened again, the conversation shows what was said before, once.
        let reopened = try alice.openChat(with: "bob")
        defer { reopened.kill() }
        let screen = try await reopened.waitFor(text: "from a script 3", timeout: .seconds(60))
        #expect(screen.filter { $0.contains("from a script 2") }.count == 1, "\(screen)")
        try await reopened.quitChat()
    }
}
