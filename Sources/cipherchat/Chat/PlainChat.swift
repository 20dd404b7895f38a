import CipherCore
import Foundation

/// The interface when standard output is not a terminal: commands read line by line from
/// standard input, and every pane line printed as it happens —
///
///     [13:05] bob -> alice: hi
///     [13:05] -!- bob  3f2a9c1d0e4b7a21  ✓ verified
///
/// on standard output, warnings and errors on standard error. It stops at `/quit`, or at the end
/// of standard input once every command has its answer (each message stored by the relay), or
/// when the backend stops.
enum PlainChat {
    static let lingerOnQuit = Duration.milliseconds(200)

    static func run(backend: some ChatBackend, initialConversation: String?, clock: ClockFormat) async {
        let (inputs, continuation) = AsyncStream.makeStream(of: ChatInput.self)
        let deliver: @Sendable (ChatInput) -> Void = { continuation.yield($0) }
        defer { continuation.finish() }
        let bridge = BackendBridge(backend: backend, deliver: deliver)
        defer { bridge.stop() }
        // readLine blocks: it gets a thread of its own rather than one of the concurrency pool's.
        Thread.detachNewThread {
            while let line = readLine(strippingNewline: true) { deliver(.line(line)) }
            deliver(.endOfInput)
        }

        var model = ChatModel(username: backend.username, initialConversation: initialConversation, now: Date())
        let printer = PlainPrinter(clock: clock)
        var leaving = false
        loop: for await input in inputs {
            let now = Date()
            let effects: [ChatModel.Effect]
            switch input {
            case .line(let line): effects = model.submit(line, now: now)
            case .endOfInput: effects = model.quitWhenAnswered()
            case .event(let event): effects = model.receive(event, now: now)
            case .eventsEnded: effects = model.eventsEnded(now: now) + model.quitWhenAnswered()
            case .reply(let reply): effects = model.complete(reply, now: now)
            case .terminate: break loop
            case .keys, .resize: effects = []
            }
            for effect in effects {
                switch effect {
                case .perform(let request): bridge.perform(request)
                case .show(let line, _): printer.print(line)
                case .bell: break  // the output is not a terminal
                case .quit:
                    // Events already on their way (a message that came with the last answer)
                    // get a moment to be printed.
                    guard !leaving else { break }
                    leaving = true
                    Task {
                        try? await Task.sleep(for: Self.lingerOnQuit)
                        deliver(.terminate)
                    }
                }
            }
        }
    }
}

/// Formats pane lines for plain mode; everything from the network made terminal-safe, since
/// the output may well be shown on a terminal later.
struct PlainPrinter: Sendable {
    let clock: ClockFormat

    enum Stream { case output, error }

    func lines(for line: PaneLine) -> [(stream: Stream, text: String)] {
        switch line {
        case .message(let message):
            let time = clock.hoursAndMinutes(message.shownTime)
            let header = "[\(time)] \(TerminalText.line(message.from)) -> \(TerminalText.line(message.to)): "
            return continued(header, TerminalText.lines(message.text)).map { (.output, $0) }
        case .notice(let notice):
            let time = clock.hoursAndMinutes(notice.at)
            let (stream, header): (Stream, String) =
                switch notice.kind {
                case .info: (.output, "[\(time)] -!- ")
                case .warning: (.error, "[\(time)] warning: ")
                case .error: (.error, "[\(time)] error: ")
                }
            return continued(header, TerminalText.lines(notice.text)).map { (stream, $0) }
        case .pending:
            // Printed once the relay has it, as the message; a line cannot be taken back.
            return []
        }
    }

    func print(_ line: PaneLine) {
        for (stream, text) in lines(for: line) {
            let handle = stream == .output ? FileHandle.standardOutput : FileHandle.standardError
            // Nowhere left to report a failed write to: the output is where errors go.
            try? handle.write(contentsOf: Data((text + "\n").utf8))
        }
    }

    /// A multi-line text's later lines are indented, so that every line starting with `[`
    /// starts an entry.
    private func continued(_ header: String, _ lines: [String]) -> [String] {
        lines.enumerated().map { index, line in index == 0 ? header + line : "    " + line }
    }
}
