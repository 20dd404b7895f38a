// Linux only: posix_spawn's types, /proc and /proc/self/exe differ on Darwin, and CI runs Linux.
#if os(Linux)
import Foundation
import Glibc

/// A program running in a detached tmux window of a fixed size, driven the way a person would:
/// keys in, the screen read back as text. Each session has its own tmux server (`-L`), so tests
/// never touch the user's tmux sessions, and `kill()` removes it whole.
public final class TmuxSession: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    let socket: String
    private static let target = "test"
    /// The server's socket file, which tmux leaves behind when killed.
    private let socketPath: String

    /// Starts `command` (run by the shell) in a `columns`×`rows` window.
    public init(_ command: String, columns: Int = 100, rows: Int = 30, environment: [String: String] = [:]) throws {
        let socket = "cipherchat-test-\(UUID().uuidString.prefix(8))"
        var arguments = ["-L", socket, "new-session", "-d", "-s", Self.target, "-x", "\(columns)", "-y", "\(rows)"]
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["-e", "\(name)=\(value)"] }
        try Self.run(arguments + [command])
        self.socket = socket
        socketPath = try Self.run(["-L", socket, "display-message", "-p", "#{socket_path}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // The pane stays after the program exits, so that a test can read its last screen.
        try tmux(["set-option", "-t", Self.target, "remain-on-exit", "on"])
    }

    /// Types `text` literally: no key names, no interpretation.
    public func type(_ text: String) throws {
        try tmux(["send-keys", "-t", Self.target, "-l", text])
    }

    /// Presses keys by tmux name: `Enter`, `Left`, `C-a`, `BSpace`, `PPage`...
    public func press(_ keys: String...) throws {
        try tmux(["send-keys", "-t", Self.target] + keys)
    }

    /// The visible screen, one string per row, trailing blanks removed.
    public func screen() throws -> [String] {
        var text = try tmux(["capture-pane", "-p", "-t", Self.target])
        if text.hasSuffix("\n") { text.removeLast() }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map {
            String($0.reversed().drop(while: { $0 == " " }).reversed())
        }
    }

    /// The cursor's zero-based column and row.
    public func cursor() throws -> (column: Int, row: Int) {
        let parts = try tmux(["display-message", "-p", "-t", Self.target, "#{cursor_x} #{cursor_y}"])
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard parts.count == 2 else { throw Failure(description: "no cursor position") }
        return (parts[0], parts[1])
    }

    /// Whether the program has exited.
    public func isDead() throws -> Bool {
        try tmux(["display-message", "-p", "-t", Self.target, "#{pane_dead}"]).hasPrefix("1")
    }

    /// Whether the program has the alternate screen on (full-screen programs do while running).
    public func alternateScreen() throws -> Bool {
        try tmux(["display-message", "-p", "-t", Self.target, "#{alternate_on}"]).hasPrefix("1")
    }

    /// Sends signal `number` (SIGTERM...) to the pane's process: the program itself when the
    /// command `exec`s it.
    public func signal(_ number: Int32) throws {
        let pid = try tmux(["display-message", "-p", "-t", Self.target, "#{pane_pid}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let pid = pid_t(pid), Glibc.kill(pid, number) == 0 else {
            throw Failure(description: "cannot send signal \(number) to process \(pid)")
        }
    }

    public func resize(columns: Int, rows: Int) throws {
        try tmux(["resize-window", "-t", Self.target, "-x", "\(columns)", "-y", "\(rows)"])
    }

    /// Polls the screen until `condition` holds; throws with the last screen when it never does.
    @discardableResult
    public func waitFor(
        _ what: String, timeout: Duration = .seconds(60), _ condition: ([String]) -> Bool
    ) async throws -> [String] {
        let clock = ContinuousClock()
        let deadline = Patience.deadline(timeout)
        var last: [String] = []
        while clock.now < deadline {
            last = try screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(description: "timed out waiting for \(what); the screen was:\n" + last.joined(separator: "\n"))
    }

    /// Waits until some row contains `text`.
    @discardableResult
    public func waitFor(text: String, timeout: Duration = .seconds(60)) async throws -> [String] {
        try await waitFor("'\(text)'", timeout: timeout) { $0.contains { $0.contains(text) } }
    }

    /// Where tmux's `alert-bell` hook counts the bells the program rings, once `countBells`
    /// set it up: a line each.
    private var bellFile: String {
        FileManager.default.temporaryDirectory.appending(path: "\(socket).bells").path
    }

    /// From now on, counts the terminal bells the program rings (BEL), for `bells()`.
    public func countBells() throws {
        _ = FileManager.default.createFile(atPath: bellFile, contents: nil)
        try tmux(["set-hook", "-t", Self.target, "alert-bell", "run-shell \"echo bell >> '\(bellFile)'\""])
    }

    /// How many bells rang since `countBells`. tmux runs its hook a moment after the bell.
    public func bells() -> Int {
        ((try? String(contentsOfFile: bellFile, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    public func kill() {
        _ = try? tmux(["kill-server"])
        try? FileManager.default.removeItem(atPath: socketPath)
        try? FileManager.default.removeItem(atPath: bellFile)
    }

    @discardableResult
    private func tmux(_ arguments: [String]) throws -> String {
        try Self.run(["-L", socket] + arguments)
    }

    /// Runs tmux and returns what it printed. Not with Foundation's `Process`: the tmux server
    /// that `new-session` starts would inherit the descriptor `Process` watches for the child's
    /// exit, and `waitUntilExit` would wait for the server. Here tmux gets standard input, output
    /// and error, and nothing else.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appending(path: "tmux-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        for descriptor in Self.openDescriptors() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }

        // The test process blocks signals in its threads; tmux and what it runs must not
        // inherit that, or the server could neither be killed nor see its children exit.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = (["tmux"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, "tmux", &actions, &attributes, argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start tmux: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift does not import.
        guard status & 0x7F == 0, (status >> 8) & 0xFF == 0 else {
            throw Failure(description: "tmux \(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    private static func openDescriptors() -> [Int32] { OpenDescriptors.list() }
}
#endif
