import CipherTesting
import Foundation
import Testing

/// Rooms in `cipherchat chat`, in a real terminal (tmux) against a real relay, while the other
/// member uses the plain commands.
@Suite("Rooms in the terminal chat", .enabled(if: TmuxSession.isAvailable))
struct RoomChatTerminalTests {
    @Test("/create, /invite and /members in the chat; the room's messages and membership lines appear inline")
    func roomInChat() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        let terminal = try alice.openChat()
        defer { terminal.kill() }
        try await terminal.waitFor(text: "connected", timeout: .seconds(30))

        for line in ["/create #team", "/invite bob"] {
            try terminal.type(line)
            try terminal.press("Enter")
        }
        try await terminal.waitFor(text: "alice added bob", timeout: .seconds(30))
        try terminal.type("hello room")
        try terminal.press("Enter")
        try await terminal.waitFor(text: "hello room", timeout: .seconds(30))

        let atBob = try await bob.run("recv", ["--json"]).requireSuccess().standardOutput
        #expect(atBob.contains("\"action\":\"invite\"") && atBob.contains("hello room"))
        try await bob.run("send", ["#team", "hi from bob"]).requireSuccess()
        try await terminal.waitFor(text: "hi from bob", timeout: .seconds(30))

        try terminal.type("/members")
        try terminal.press("Enter")
        try await terminal.waitFor(text: "members of #team: alice (admin), bob", timeout: .seconds(30))
        try terminal.type("/quit")
        try terminal.press("Enter")
        try await terminal.waitFor("the chat to exit", timeout: .seconds(15)) { _ in (try? terminal.isDead()) == true }
    }
}
