/// Everything on the screen at one moment, as `ChatScreen` laid it out.
struct ScreenFrame: Equatable, Sendable {
    /// One per screen row, top to bottom.
    var rows: [StyledLine]
    var cursorRow: Int
    var cursorColumn: Int
    /// The pane scrollback the layout used (clamped); the caller stores it back in the model.
    var scrollback: Int
    /// Where the input line scrolled to; the caller stores it back in the editor.
    var inputOffset: Int

    /// The rows without styles, as a person reading the screen sees them.
    var text: [String] { rows.map(\.plain) }
}

/// Turns frames into the bytes that draw them: the first frame whole, then only the rows that
/// changed, so that a message arriving while the user types rewrites the pane and leaves the
/// input line's bytes alone. Pure; `FullScreenChat` writes what it returns.
struct ScreenWriter: Sendable {
    private var previous: ScreenFrame?

    /// The next `update` redraws everything: after a resize, or ctrl-l.
    mutating func invalidate() { previous = nil }

    mutating func update(to frame: ScreenFrame) -> String {
        var out = ANSI.hideCursor
        let old = previous?.rows.count == frame.rows.count ? previous : nil
        if old == nil { out += ANSI.home + ANSI.clearScreen }
        for (index, row) in frame.rows.enumerated() where old?.rows[index] != row {
            out += ANSI.moveTo(row: index, column: 0) + row.ansi() + ANSI.reset + ANSI.clearToEndOfLine
        }
        out += ANSI.moveTo(row: frame.cursorRow, column: frame.cursorColumn) + ANSI.showCursor
        previous = frame
        return out
    }
}

/// The few escape sequences the interface uses (ECMA-48 and xterm's private modes).
enum ANSI {
    static let escape = "\u{1B}["
    static let reset = escape + "0m"
    static let hideCursor = escape + "?25l"
    static let showCursor = escape + "?25h"
    static let home = escape + "H"
    static let clearScreen = escape + "2J"
    static let clearToEndOfLine = escape + "K"
    /// BEL: the terminal beeps, flashes, or marks its window, as the user set it up.
    static let bell = "\u{07}"
    /// The alternate screen: the shell's screen comes back untouched on exit.
    static let enterAlternateScreen = escape + "?1049h"
    static let leaveAlternateScreen = escape + "?1049l"

    /// Zero-based row and column.
    static func moveTo(row: Int, column: Int) -> String { escape + "\(row + 1);\(column + 1)H" }
}
