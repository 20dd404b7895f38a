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
        try terminal.type(line)
        try terminal.press("Enter")
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

        try terminal.type("/quit")
        try terminal.press("Enter")
        try await terminal.waitFor("the chat to exit") { _ in (try? terminal.isDead()) == true }
    }
}
