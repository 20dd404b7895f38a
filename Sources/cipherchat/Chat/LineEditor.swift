import CipherCore

/// The input line: text, cursor and history, changed only by keys. Pure: drawing it is the
/// renderer's business, through `viewport(width:)`.
struct LineEditor: Sendable, Equatable {
    /// Lines kept for up/down; older ones are forgotten.
    static let historyLimit = 500

    private(set) var characters: [Character] = []
    /// Between 0 and `characters.count`: the cursor is before `characters[cursor]`.
    private(set) var cursor = 0
    private(set) var history: [String] = []
    /// The history entry shown, or nil when editing a new line.
    private var historyIndex: Int?
    /// The new line being typed before up was pressed, given back by down.
    private var draft: [Character] = []
    /// The first character shown when the line is wider than the screen; kept between draws so
    /// that the line does not jump as the cursor moves inside the visible part.
    var scrollOffset = 0

    var text: String { String(characters) }
    var isEmpty: Bool { characters.isEmpty }

    init(history: [String] = []) {
        self.history = Array(history.suffix(Self.historyLimit))
    }

    /// Applies an editing key; returns the line when `.enter` submits it. Keys that are not about
    /// editing (page up, ctrl-c...) change nothing.
    @discardableResult
    mutating func apply(_ key: Key) -> String? {
        switch key {
        case .text(let typed): insert(typed)
        case .enter: return submit()
        case .backspace: if cursor > 0 { characters.remove(at: cursor - 1); cursor -= 1 }
        case .delete, .endOfInput: if cursor < characters.count { characters.remove(at: cursor) }
        case .left: cursor = max(0, cursor - 1)
        case .right: cursor = min(characters.count, cursor + 1)
        case .home: cursor = 0
        case .end: cursor = characters.count
        case .wordLeft: cursor = startOfWord(before: cursor)
        case .wordRight: cursor = endOfWord(after: cursor)
        case .deleteToStart:
            characters.removeSubrange(0..<cursor)
            cursor = 0
        case .deleteToEnd: characters.removeSubrange(cursor...)
        case .deleteWordBefore:
            let start = startOfWord(before: cursor)
            characters.removeSubrange(start..<cursor)
            cursor = start
        case .up: recall(older: true)
        case .down: recall(older: false)
        case .tab, .pageUp, .pageDown, .interrupt, .redraw, .escape, .window: break
        }
        return nil
    }

    private mutating func insert(_ typed: String) {
        // Line breaks and other controls never enter the line: a pasted newline arrives as
        // `.enter`, and anything else would be sent to the peer's terminal.
        let clean = typed.filter { !$0.isControlLike }
        characters.insert(contentsOf: clean, at: cursor)
        cursor += clean.count
    }

    private mutating func submit() -> String {
        let line = text
        if !line.allSatisfy(\.isWhitespace), history.last != line {
            history.append(line)
            if history.count > Self.historyLimit { history.removeFirst() }
        }
        characters = []
        cursor = 0
        historyIndex = nil
        draft = []
        scrollOffset = 0
        return line
    }

    private mutating func recall(older: Bool) {
        let index: Int?
        switch (historyIndex, older) {
        case (nil, true):
            guard !history.isEmpty else { return }
            draft = characters
            index = history.count - 1
        case (nil, false): return
        case (let current?, true): index = max(0, current - 1)
        case (let current?, false): index = current + 1 < history.count ? current + 1 : nil
        }
        historyIndex = index
        characters = index.map { Array(history[$0]) } ?? draft
        cursor = characters.count
    }

    /// Words are runs of non-blank characters, as for the shell's ctrl-w.
    private func startOfWord(before position: Int) -> Int {
        var index = position
        while index > 0, characters[index - 1].isWhitespace { index -= 1 }
        while index > 0, !characters[index - 1].isWhitespace { index -= 1 }
        return index
    }

    private func endOfWord(after position: Int) -> Int {
        var index = position
        while index < characters.count, characters[index].isWhitespace { index += 1 }
        while index < characters.count, !characters[index].isWhitespace { index += 1 }
        return index
    }
}

extension LineEditor {
    /// The part of the line that fits in `width` columns, and the cursor's column in it.
    struct Viewport: Equatable {
        var text: String
        var cursorColumn: Int
        /// The scroll offset this viewport used; store it back in `scrollOffset`.
        var offset: Int
    }

    /// Scrolls only as far as needed to keep the cursor visible, and back left when text after
    /// the cursor was deleted and the line fits again. The cursor may sit one column past the
    /// last character, so at most `width - 1` columns of text precede it.
    func viewport(width: Int) -> Viewport {
        let width = max(width, 1)
        var offset = min(scrollOffset, cursor)
        while offset < cursor, columns(offset..<cursor) > width - 1 { offset += 1 }
        while offset > 0, columns((offset - 1)..<characters.count) <= width - 1 { offset -= 1 }
        var shown = ""
        var used = 0
        for character in characters[offset...] {
            let characterWidth = DisplayWidth.of(character)
            if used + characterWidth > width { break }
            shown.append(character)
            used += characterWidth
        }
        return Viewport(text: shown, cursorColumn: columns(offset..<cursor), offset: offset)
    }

    private func columns(_ range: Range<Int>) -> Int {
        characters[range].reduce(0) { $0 + DisplayWidth.of($1) }
    }
}

extension Character {
    /// Holds a scalar the terminal must not be sent (`TerminalText.isUnsafe`).
    var isControlLike: Bool {
        unicodeScalars.contains(where: TerminalText.isUnsafe)
    }
}
