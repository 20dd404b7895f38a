/// One keystroke as the chat interface understands it, decoded from the terminal's bytes by
/// `KeyDecoder`. Control keys are named for what they do, so that the editor does not need to
/// know that ctrl-a and the Home key are the same thing.
enum Key: Hashable, Sendable {
    /// Printable text: one typed character, or a run of them when a paste arrives in one read.
    case text(String)
    case enter
    case tab
    case backspace
    case delete
    case left
    case right
    case wordLeft
    case wordRight
    case home
    case end
    case up
    case down
    case pageUp
    case pageDown
    /// ctrl-u: delete from the start of the line to the cursor.
    case deleteToStart
    /// ctrl-k: delete from the cursor to the end of the line.
    case deleteToEnd
    /// ctrl-w, alt-backspace: delete the word before the cursor.
    case deleteWordBefore
    /// ctrl-c.
    case interrupt
    /// ctrl-d: end of input on an empty line, delete under the cursor otherwise.
    case endOfInput
    /// ctrl-l.
    case redraw
    /// alt-1…9, alt-0: switch to window 1…10.
    case window(Int)
    /// A lone escape key, or a sequence this decoder does not know.
    case escape
}
