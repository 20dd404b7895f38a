import CipherCore

/// The full-screen layout, top to bottom: the message pane, a status line, the input line.
/// `render` is pure: a model, an editor and a size in, every row of the screen out.
///
///     13:05 <bob✓> hi
///     13:06 <alice> hello
///      [alice] [connected] [with bob✓] [unread: carol 2]            <- status line
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
        var rows: [StyledLine] = []  // newest first
        for line in model.currentLines.reversed() where rows.count < wanted {
            rows += formatter.rows(for: line, width: size.columns).reversed()
        }
        let scrollback = min(model.scrollback, max(0, rows.count - height))
        let visible = rows.dropFirst(scrollback).prefix(height).reversed()
        let blank = Array(repeating: StyledLine(), count: height - visible.count)
        return (blank + visible.map { $0.truncated(to: size.columns) }, scrollback)
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
        case .disconnected: item([("disconnected", bold)])
        }
        if let current = model.current {
            var with: [(String, TextStyle)] = [("with ", base), (TerminalText.line(current), bold)]
            if model.verified.contains(current) { with.append((PaneFormatter.verifiedMark, bold)) }
            item(with)
        }
        let unread = model.unreadConversations
        if !unread.isEmpty {
            let list = unread.map { "\(TerminalText.line($0.name)) \($0.count)" }.joined(separator: ", ")
            item([("unread: ", base), (list, bold)])
        }
        if scrolled { item([("more below: page down", bold)]) }
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
