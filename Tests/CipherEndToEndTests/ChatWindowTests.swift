import CipherTesting
import Foundation
import Testing

/// The chat's irssi/weechat habits, in a real terminal (tmux) against a real relay, while the
/// others use the plain commands: the window list, switching and closing windows, the "new
/// messages" line, the bell, and `/join` of a room that is not there.
@Suite("Windows in the terminal chat", RequiredTool.tmux.trait)
struct ChatWindowTests {
    @Test("a window per conversation in the status line, marked when something new comes; alt-N and /window switch, /close closes; a new-messages line where the user left off; the bell only for a window not in view, and not with /set bell off; /join #nosuchroom opens no window")
    func windows() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let carol = try UserHome("carol")
        try await carol.initialize(on: try relay.requireEndpoint()).requireSuccess()

        let terminal = try alice.openChat(with: "bob", columns: 120)
        defer { terminal.kill() }
        try await terminal.waitFor(text: "[connected]")
        try terminal.countBells()
        try await terminal.waitFor(text: "[1:status 2:bob]")

        try terminal.enter("/join #nosuchroom")
        let refused = try await terminal.waitFor(text: "cannot join #nosuchroom: you are not a member of #nosuchroom")
        #expect(refused.contains { $0.contains("[1:status 2:bob]") }, "\(refused.joined(separator: "\n"))")

        // In view: no bell. Not in view: the window opens, marked, and the bell rings.
        try await bob.send("hello alice", to: "alice")
        try await terminal.waitFor(text: "<bob> hello alice")
        try await carol.send("psst from carol", to: "alice")
        try await terminal.waitFor(text: "[1:status 2:bob 3:carol*]")
        #expect(try await Patience.poll(upTo: .seconds(30)) { terminal.bells() >= 1 })
        #expect(terminal.bells() == 1)

        // alt-3: carol's window, never seen, starts with the new-messages line.
        try terminal.press("M-3")
        let first = try await terminal.waitFor(text: "[1:status 2:bob 3:carol]")
        #expect(try row(of: "--- new messages", in: first) < row(of: "<carol> psst from carol", in: first), "\(first.joined(separator: "\n"))")

        // Back to bob (alt-2); what carol says next comes after the line where alice left off.
        try terminal.press("M-2")
        try await terminal.waitFor(text: "[with bob]")
        try await carol.send("second from carol", to: "alice")
        try await terminal.waitFor(text: "3:carol*]")
        #expect(try await Patience.poll(upTo: .seconds(30)) { terminal.bells() >= 2 })
        try terminal.enter("/window 3")
        let second = try await terminal.waitFor(text: "[with carol]")
        let old = try row(of: "psst from carol", in: second)
        let marker = try row(of: "--- new messages", in: second)
        let new = try row(of: "second from carol", in: second)
        #expect(old < marker && marker < new, "\(second.joined(separator: "\n"))")

        // The bell off: a message for a window not in view rings nothing; on again, it rings.
        try terminal.enter("/set bell off")
        try await terminal.waitFor(text: "bell off")
        try terminal.press("M-2")
        try await carol.send("third from carol", to: "alice")
        try await terminal.waitFor(text: "3:carol*]")
        try terminal.enter("/set bell on")
        try await terminal.waitFor(text: "bell on")
        try await carol.send("fourth from carol", to: "alice")
        #expect(try await Patience.poll(upTo: .seconds(30)) { terminal.bells() >= 3 })
        #expect(terminal.bells() == 3, "the message that came with the bell off rang it")

        // /close closes carol's window; bob's, before it, shows.
        try terminal.enter("/window 3")
        try await terminal.waitFor(text: "[with carol]")
        try terminal.enter("/close")
        let closed = try await terminal.waitFor(text: "[1:status 2:bob]")
        #expect(closed.contains { $0.contains("[with bob]") }, "\(closed.joined(separator: "\n"))")
        try terminal.press("M-1")
        try await terminal.waitFor(text: "CipherChat as alice")

        try await terminal.quitChat()
    }

    private func row(of text: String, in screen: [String]) throws -> Int {
        guard let index = screen.firstIndex(where: { $0.contains(text) }) else {
            throw HarnessError("'\(text)' is not on the screen:\n" + screen.joined(separator: "\n"))
        }
        return index
    }
}
