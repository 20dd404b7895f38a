import CipherTesting

extension TmuxSession {
    /// Types a line and presses Enter, as a user does in the chat.
    func enter(_ line: String) throws {
        try type(line)
        try press("Enter")
    }

    /// `/quit`, then waits for the chat to exit.
    func quitChat() async throws {
        try enter("/quit")
        try await waitFor("the chat to exit") { _ in (try? self.isDead()) == true }
    }
}
