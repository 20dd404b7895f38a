/// The chat interface over `backend`, until the user quits: full-screen when standard input and
/// output are both terminals, plain lines otherwise (output piped or redirected, or commands
/// coming from a pipe or a file). `initialConversation` is the user to talk to at first, if any.
func runChat(backend: some ChatBackend, initialConversation: String?, bell: Bool = true) async throws {
    let clock = ClockFormat()
    if Terminal.isInteractive {
        try await FullScreenChat.run(backend: backend, initialConversation: initialConversation, clock: clock, bell: bell)
    } else {
        await PlainChat.run(backend: backend, initialConversation: initialConversation, clock: clock)
    }
}
