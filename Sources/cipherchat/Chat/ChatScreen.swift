import CipherCore

/// The full-screen layout, top to bottom: the message pane, a status line, the input line.
/// `render` is pure: a model, an editor and a size in, every row of the screen out.
///
///     23:58 <bob✓> hi
///     --- Friday 4 December 2026 -------------------------------   <- the day changed
///     00:01 <alice> hello
///     --- new messages -----------------------------------------   <- where the user left off
///     00:05 <bob✓> are you there?
///      [alice] [connected] [with bob✓] [1:status 2:bob 3:carol*]    <- status line
///     [bob] what I am typing_                                      <- input line
struct ChatScreen: Sendable {
    struct Size: Equatable, Sendable {
        var rows: Int
        var columns: Int
    }

    let size: Size
    let formatter: PaneFormatter

    init(size: Size, username: String, clock: ClockFormat) {
        self.size = Size(rows: max(size.rows, 1), columns: max(size.columns, 1))
        self.formatter = PaneFormatter(username: username, clock: clock)
    }

    var paneHeight: Int { max(0, size.rows - 2) }

    /// The connection item while the client has no connection and keeps trying.
    static let offline = "offline — reconnecting"

    func render(_ model: ChatModel, _ editor: LineEditor) -> ScreenFrame {
        let (pane, scrollback) = paneRows(model)
        let (input, cursorColumn, inputOffset) = inputRow(model, editor)
        var rows = pane
        if size.rows >= 2 { rows.append(statusRow(model, scrolled: scrollback > 0)) }
        rows.append(input)
        return ScreenFrame(
            rows: rows, cursorRow: rows.count - 1, cursorColumn: cursorColumn,
            scrollback: scrollback, inputOffset: inputOffset
        )
    }

    /// The pane's rows, bottom-aligned, and the scrollback actually used: lines are laid out from
    /// the newest back only as far as the screen needs, and scrolling stops at the oldest.
    private func paneRows(_ model: ChatModel) -> ([StyledLine], scrollback: Int) {
        let height = paneHeight
        guard height > 0 else { return ([], 0) }
        let wanted = height + model.scrollback
        let lines = model.currentLines
        let marker = model.readMarkerIndex
        var rows: [StyledLine] = []  // newest first
        for index in lines.indices.reversed() where rows.count < wanted {
            rows += formatter.rows(for: lines[index], width: size.columns).reversed()
            if index > 0, let day = formatter.clock.dayChanged(from: lines[index - 1].time, to: lines[index].time) {
                rows.append(separator(day))
            }
            if index == marker { rows.append(separator(Self.newMessages)) }
        }
        let scrollback = min(model.scrollback, max(0, rows.count - height))
        let visible = rows.dropFirst(scrollback).prefix(height).reversed()
        let blank = Array(repeating: StyledLine(), count: height - visible.count)
        return (blank + visible.map { $0.truncated(to: size.columns) }, scrollback)
    }

    static let newMessages = "new messages"

    /// `--- TEXT ---…` across the pane.
    private func separator(_ text: String) -> StyledLine {
        let style = TextStyle(dim: true)
        let head = "--- \(text) "
        return StyledLine(head + String(repeating: "-", count: max(0, size.columns - head.count)), style).truncated(to: size.columns)
    }

    private func statusRow(_ model: ChatModel, scrolled: Bool) -> StyledLine {
        let base = TextStyle(foreground: Palette.white, background: Palette.blueBackground)
        var bold = base
        bold.bold = true
        var line = StyledLine(" ", base)
        func item(_ parts: [(String, TextStyle)]) {
            line.append("[", base)
            for (text, style) in parts { line.append(text, style) }
            line.append("] ", base)
        }
        item([(TerminalText.line(model.username), base)])
        switch model.connection {
        case .connecting: item([("connecting…", base)])
        case .connected: item([("connected", base)])
        case .disconnected: item([(Self.offline, bold)])
        case .throughOwner: item([("via the daemon", base)])
        }
        if model.pendingSends > 0 { item([("\(model.pendingSends) pending", bold)]) }
        if let current = model.current {
            var with: [(String, TextStyle)] = [("with ", base), (TerminalText.line(current), bold)]
            if model.verified.contains(current) { with.append((PaneFormatter.verifiedMark, bold)) }
            item(with)
        }
        if scrolled { item([("more below: page down", bold)]) }
        // The window list, irssi-style: a window with something new in bold, marked `*`.
        let entries = model.windowEntries
        item(entries.enumerated().flatMap { index, entry in
            let text = "\(entry.number):\(TerminalText.line(entry.name))" + (entry.active ? "*" : "")
            return [(index == 0 ? "" : " ", base), (text, entry.active ? bold : base)]
        })
        return line.filled(to: size.columns, base)
    }

    /// The prompt and the visible part of the input; the prompt takes at most a third of a row.
    private func inputRow(_ model: ChatModel, _ editor: LineEditor) -> (StyledLine, cursor: Int, offset: Int) {
        let promptText = model.current.map { "[\(TerminalText.line($0))] " } ?? "> "
        let prompt = StyledLine(promptText, TextStyle(bold: true)).truncated(to: size.columns / 3)
        let viewport = editor.viewport(width: size.columns - prompt.width)
        var line = prompt
        line.append(viewport.text)
        return (line, prompt.width + viewport.cursorColumn, viewport.offset)
    }
}
