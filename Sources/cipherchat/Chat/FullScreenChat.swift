import Foundation

/// The full-screen interface's loop: puts the terminal in raw mode on the alternate screen,
/// feeds keys, backend events, replies and resizes to the model one at a time, and draws after
/// each. The terminal is restored however the loop ends: `/quit`, ctrl-c, a signal, or a throw.
enum FullScreenChat {
    static func run(backend: some ChatBackend, initialConversation: String?, clock: ClockFormat, bell: Bool = true) async throws {
        let rawMode = try Terminal.RawMode.enable()
        Terminal.write(ANSI.enterAlternateScreen)
        defer {
            Terminal.write(ANSI.reset + ANSI.showCursor + ANSI.leaveAlternateScreen)
            rawMode.restore()
        }
        let (inputs, continuation) = AsyncStream.makeStream(of: ChatInput.self)
        let deliver: @Sendable (ChatInput) -> Void = { continuation.yield($0) }
        defer { continuation.finish() }
        let terminal = await TerminalInput.start(deliver: deliver)
        defer { terminal.stop() }
        let bridge = BackendBridge(backend: backend, deliver: deliver)
        defer { bridge.stop() }

        var model = ChatModel(username: backend.username, initialConversation: initialConversation, now: Date(), bell: bell)
        var editor = LineEditor()
        var writer = ScreenWriter()
        var size = Terminal.size()

        func draw() {
            let screen = ChatScreen(size: size, username: model.username, clock: clock)
            let frame = screen.render(model, editor)
            model.scrollback = frame.scrollback
            editor.scrollOffset = frame.inputOffset
            Terminal.write(writer.update(to: frame))
        }

        draw()
        loop: for await input in inputs {
            let now = Date()
            var effects: [ChatModel.Effect] = []
            switch input {
            case .keys(let keys):
                let paneHeight = ChatScreen(size: size, username: model.username, clock: clock).paneHeight
                for key in keys {
                    if key == .redraw { writer.invalidate() }
                    effects += KeyBindings.apply(key, model: &model, editor: &editor, paneHeight: paneHeight, now: now)
                }
            case .event(let event): effects = model.receive(event, now: now)
            case .eventsEnded: effects = model.eventsEnded(now: now)
            case .reply(let reply): effects = model.complete(reply, now: now)
            case .resize:
                size = Terminal.size()
                writer.invalidate()
            case .terminate: break loop
            case .line, .endOfInput: break  // plain mode's
            }
            for effect in effects {
                switch effect {
                case .perform(let request): bridge.perform(request)
                case .show: break  // the pane shows it on the next draw
                case .bell: Terminal.write(ANSI.bell)
                case .quit: break loop
                }
            }
            draw()
        }
    }
}
