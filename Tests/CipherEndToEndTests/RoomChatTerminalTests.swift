import CipherTesting
import Foundation
import Testing

/// Rooms in `cipherchat chat`, in a real terminal (tmux) against a real relay, while the other
/// member uses the plain commands.
@Suite("Rooms in the terminal chat", RequiredTool.tmux.trait)
struct RoomChatTerminalTests {
    @Test("/create, /invite and /members in the chat; the room's messages and membership lines appear inline")
    func roomInChat() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        let terminal = try alice.openChat()
        defer { terminal.kill() }
        try await terminal.waitFor(text: "connected")

        for line in ["/create #team", "/invite bob"] {
            try terminal.enter(line)
        }
        try await terminal.waitFor(text: "alice added bob")
        try terminal.enter("hello room")
        try await terminal.waitFor(text: "hello room")

        let atBob = try await bob.run("recv", ["--json"]).requireSuccess().standardOutput
        #expect(atBob.contains("\"action\":\"invite\"") && atBob.contains("hello room"))
        try await bob.run("send", ["#team", "hi from bob"]).requireSuccess()
        try await terminal.waitFor(text: "hi from bob")

        try terminal.enter("/members")
        try await terminal.waitFor(text: "members of #team: alice (admin), bob")
        try await terminal.quitChat()
    }
}
