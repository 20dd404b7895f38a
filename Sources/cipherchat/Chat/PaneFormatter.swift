import CipherCore
import Foundation

/// Lays out one pane entry as screen rows of a given width, irssi-style:
///
///     13:05 <bob✓> the text, wrapped at spaces, with continuation rows
///           indented under the text
///     13:06 -!- a notice
///     13:07 <alice> typed while offline (pending)
///
/// Everything from the network goes through `TerminalText` here.
struct PaneFormatter: Sendable {
    let username: String
    let clock: ClockFormat

    static let verifiedMark = "✓"
    /// After a message the relay has not stored yet.
    static let pendingMark = " (pending)"
    /// `HH:MM ` — where continuation rows start.
    static let indent = 6

    func rows(for line: PaneLine, width: Int) -> [StyledLine] {
        let time = StyledLine(clock.hoursAndMinutes(time(of: line)) + " ", TextStyle(dim: true))
        var header = time
        let body: [String]
        let bodyStyle: TextStyle
        switch line {
        case .message(let message):
            header.append(sender(of: message))
            header.append(" ")
            body = TerminalText.lines(message.text)
            bodyStyle = .plain
        case .notice(let notice):
            let (mark, style) = Self.look(of: notice.kind)
            header.append(StyledLine("-!-", mark))
            header.append(" ")
            body = TerminalText.lines(notice.text)
            bodyStyle = style
        case .pending(let pending):
            header.append(StyledLine("<"))
            header.append(TerminalText.line(pending.from), TextStyle(bold: true))
            header.append("> ")
            var lines = TerminalText.lines(pending.text)
            lines[lines.count - 1] += Self.pendingMark
            body = lines
            bodyStyle = TextStyle(dim: true)
        }
        let indent = width >= 2 * Self.indent ? Self.indent : 0
        var rows: [StyledLine] = []
        for (index, text) in body.enumerated() {
            var first = index == 0 ? header : StyledLine(String(repeating: " ", count: indent))
            first.append(text, bodyStyle)
            rows += Self.wrap(first, width: width, indent: indent)
        }
        return rows
    }

    private func time(of line: PaneLine) -> Date { line.time }

    /// `<name>` in the name's colour (the user's own name in bold instead), with the verified
    /// mark after a verified peer.
    private func sender(of message: ChatMessage) -> StyledLine {
        let name = TerminalText.line(message.from)
        var line = StyledLine("<")
        if message.from == username {
            line.append(name, TextStyle(bold: true))
        } else {
            line.append(name, .colour(Palette.colour(forName: message.from)))
            if message.verified { line.append(Self.verifiedMark, .colour(Palette.green, bold: true)) }
        }
        line.append(">")
        return line
    }

    private static func look(of kind: Notice.Kind) -> (mark: TextStyle, text: TextStyle) {
        switch kind {
        case .info: (.colour(Palette.cyan), .plain)
        case .warning: (.colour(Palette.yellow, bold: true), .colour(Palette.yellow, bold: true))
        case .error: (.colour(Palette.red, bold: true), .colour(Palette.red))
        }
    }

    private struct Cell {
        let character: Character
        let style: TextStyle
        let width: Int
    }

    /// Word-wraps `line` to `width`, continuation rows starting with `indent` spaces. Words longer
    /// than a row are cut where the row ends.
    static func wrap(_ line: StyledLine, width: Int, indent: Int) -> [StyledLine] {
        let width = max(width, 1)
        let cells = line.spans.flatMap { span in
            span.text.map { Cell(character: $0, style: span.style, width: DisplayWidth.of($0)) }
        }
        var rows: [[Cell]] = []
        var row: [Cell] = []
        var used = 0
        var limit = width
        for cell in cells {
            if used + cell.width > limit, !row.isEmpty {
                let carried = carry(from: &row, cell: cell, room: width - indent)
                rows.append(row)
                row = carried
                used = carried.reduce(0) { $0 + $1.width }
                limit = width - indent
                if cell.character == " ", row.isEmpty { continue }
            }
            row.append(cell)
            used += cell.width
        }
        rows.append(row)
        return rows.enumerated().map { index, cells in
            var styled = StyledLine(index == 0 ? "" : String(repeating: " ", count: indent))
            for cell in cells { styled.append(String(cell.character), cell.style) }
            return styled
        }
    }

    /// Breaks `row` after its last space when the word that follows fits on the next row with
    /// `cell`; returns that word (moved out of `row`), or nothing for a hard break.
    private static func carry(from row: inout [Cell], cell: Cell, room: Int) -> [Cell] {
        guard cell.character != " ", let space = row.lastIndex(where: { $0.character == " " }), space > 0 else {
            return []
        }
        let word = Array(row[(space + 1)...])
        guard word.reduce(cell.width, { $0 + $1.width }) <= room else { return [] }
        row.removeSubrange(space...)
        return word
    }
}
