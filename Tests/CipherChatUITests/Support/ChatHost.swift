import Foundation
import Testing

@testable import cipherchat

/// The full-screen chat over a `ScriptedBackend`, in a process of its own, inside tmux. The
/// process is this test binary again, started by `ChatHost.command` with `CIPHERCHAT_UI_HOST`
/// naming the directory shared with the test; run any other way, this suite is skipped. So the
/// interface is driven end to end without a fake backend in the shipped executable.
@Suite("Chat host process (runs only when started by an end-to-end test)")
struct ChatHost {
    static let directoryVariable = "CIPHERCHAT_UI_HOST"
    static let conversationVariable = "CIPHERCHAT_UI_HOST_CONVERSATION"

    static var directory: URL? {
        ProcessInfo.processInfo.environment[directoryVariable].map { URL(fileURLWithPath: $0) }
    }

    @Test("run the chat interface", .enabled(if: ChatHost.directory != nil))
    func host() async throws {
        let backend = ScriptedBackend(directory: Self.directory!, username: "alice")
        let conversation = ProcessInfo.processInfo.environment[Self.conversationVariable]
        try await runChat(backend: backend, initialConversation: conversation)
    }

    /// The shell command that starts the host: this binary, running only the test above. Swift
    /// Testing reports on standard error, which goes to a file so that the screen is the chat's.
    static func command(directory: URL) -> String {
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let log = directory.appending(path: "host.log").path
        return "exec '\(binary)' --testing-library swift-testing --filter 'ChatHost' 2>'\(log)'"
    }
}
