import CipherTesting
import Foundation
import Testing

/// `cipherchat chat` opened while the relay is down, in a real terminal (tmux).
@Suite("The chat started while the relay is down", RequiredTool.tmux.trait)
struct ChatOfflineTests {
    @Test("started with the relay down, the chat opens offline; a line typed then stays on screen as pending and is sent, shown as sent, once the relay is back")
    func startOffline() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await relay.stop()

        let terminal = try alice.openChat(with: "bob")
        defer { terminal.kill() }
        let offline = try await terminal.waitFor(text: "offline — reconnecting")
        #expect(offline.contains { $0.contains("cannot reach the relay at 127.0.0.1:") }, "\(offline.joined(separator: "\n"))")

        let line = "typed while the relay was down"
        try terminal.enter(line)
        let pending = try await terminal.waitFor(text: "<alice> \(line) (pending)")
        #expect(pending.contains { $0.contains("[1 pending]") }, "\(pending.joined(separator: "\n"))")

        try await relay.restart()
        // Shown as sent: the same line without its mark, and the status line back to connected.
        let sent = try await terminal.waitFor("the line shown as sent, connected", timeout: .seconds(120)) { screen in
            screen.contains { $0.hasSuffix("<alice> \(line)") } && screen.contains { $0.contains("[connected]") }
                && !screen.contains { $0.contains("pending") }
        }
        #expect(sent.filter { $0.contains(line) }.count == 1, "\(sent.joined(separator: "\n"))")
        #expect(try await bob.receive().map(\.text) == [line])

        try await terminal.quitChat()
    }
}

/// `cipherchat chat` while `cipherchat daemon` owns the home: it attaches to the daemon.
@Suite("The chat beside a daemon", RequiredTool.tmux.trait)
struct ChatAttachedToDaemonTests {
    @Test("with a daemon owning the home, the chat attaches to it without opening the store: history, live messages both ways, each shown once")
    func attachToDaemon() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await bob.send("before the chat", to: "alice")
        let daemon = try await alice.startDaemon()
        defer { daemon.signal(SIGKILL) }

        // A wrong passphrase: the chat cannot open the store, only talk to the daemon.
        let command = "\(try CipherBinary.url().path) chat --home \(alice.home.path) --with bob"
        let terminal = try TmuxSession(command, columns: 120, rows: 20, environment: [
            "CIPHERCHAT_PASSPHRASE": "wrong passphrase", "CIPHERCHAT_SCRYPT_LOG_N": UserHome.scryptLogN,
        ])
        defer { terminal.kill() }
        let attached = try await terminal.waitFor(text: "[via the daemon]")
        #expect(attached.contains { $0.contains("attached to process \(daemon.processIdentifier) (cipherchat daemon)") },
                "\(attached.joined(separator: "\n"))")
        try await terminal.waitFor(text: "<bob> before the chat")

        try await bob.send("while attached", to: "alice")
        try await terminal.waitFor(text: "<bob> while attached")
        try terminal.enter("typed beside the daemon")
        let sent = try await terminal.waitFor("the line shown as sent") { screen in
            screen.contains { $0.hasSuffix("<alice> typed beside the daemon") }
        }
        #expect(try await bob.receive().map(\.text) == ["typed beside the daemon"])
        // The send's answer and the daemon's notification of it make one line.
        let settled = try terminal.screen()
        #expect(settled.filter { $0.contains("typed beside the daemon") }.count == 1, "\(sent.joined(separator: "\n"))")

        try await terminal.quitChat()
        #expect(daemon.exitStatus == nil, "the daemon stopped with the chat")
    }
}
