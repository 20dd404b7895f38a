import Testing

@testable import cipherchat

@Suite("The input line: editing, history, horizontal scrolling")
struct LineEditorTests {
    /// An editor after typing `text` and pressing `keys`.
    func editor(typing text: String, then keys: [Key] = [], history: [String] = []) -> LineEditor {
        var editor = LineEditor(history: history)
        editor.apply(.text(text))
        for key in keys { editor.apply(key) }
        return editor
    }

    @Test("typing inserts at the cursor; left, right, home and end move it")
    func cursorMovement() {
        var editor = editor(typing: "hllo", then: [.home, .right])
        editor.apply(.text("e"))
        #expect(editor.text == "hello")
        #expect(editor.cursor == 2)
        editor.apply(.end)
        #expect(editor.cursor == 5)
        editor.apply(.right)
        #expect(editor.cursor == 5)
        editor.apply(.home)
        editor.apply(.left)
        #expect(editor.cursor == 0)
    }

    @Test("backspace and delete remove one character, and do nothing at the ends")
    func deletion() {
        var editor = editor(typing: "abc", then: [.backspace])
        #expect(editor.text == "ab")
        editor.apply(.delete)
        #expect(editor.text == "ab")
        editor.apply(.home)
        editor.apply(.backspace)
        editor.apply(.delete)
        #expect(editor.text == "b")
        #expect(editor.cursor == 0)
    }

    @Test("ctrl-u deletes to the start, ctrl-k to the end")
    func killLine() {
        let start = editor(typing: "hello world", then: [.wordLeft, .deleteToStart])
        #expect(start.text == "world")
        #expect(start.cursor == 0)
        let end = editor(typing: "hello world", then: [.wordLeft, .deleteToEnd])
        #expect(end.text == "hello ")
    }

    @Test("ctrl-w deletes the word before the cursor and the blanks after it")
    func deleteWord() {
        #expect(editor(typing: "/msg bob hi  ", then: [.deleteWordBefore]).text == "/msg bob ")
        #expect(editor(typing: "/msg bob hi", then: [.wordLeft, .deleteWordBefore]).text == "/msg hi")
        #expect(editor(typing: "x", then: [.home, .deleteWordBefore]).text == "x")
    }

    @Test("word movement jumps over blanks and words")
    func wordMovement() {
        var editor = editor(typing: "one two  three", then: [.wordLeft])
        #expect(editor.cursor == 9)
        editor.apply(.wordLeft)
        #expect(editor.cursor == 4)
        editor.apply(.wordRight)
        #expect(editor.cursor == 7)
    }

    @Test("enter returns the line, clears the editor and remembers the line")
    func submit() {
        var editor = editor(typing: "hi bob")
        #expect(editor.apply(.enter) == "hi bob")
        #expect(editor.text.isEmpty)
        #expect(editor.cursor == 0)
        #expect(editor.history == ["hi bob"])
        #expect(editor.apply(.enter) == "")
        #expect(editor.history == ["hi bob"])
    }

    @Test("up and down walk the history and give back the line being typed")
    func history() {
        var editor = LineEditor(history: ["first", "second"])
        editor.apply(.text("draft"))
        editor.apply(.up)
        #expect(editor.text == "second")
        #expect(editor.cursor == 6)
        editor.apply(.up)
        editor.apply(.up)
        #expect(editor.text == "first")
        editor.apply(.down)
        #expect(editor.text == "second")
        editor.apply(.down)
        #expect(editor.text == "draft")
        editor.apply(.down)
        #expect(editor.text == "draft")
    }

    @Test("a line repeated, or blank, is not added to the history again")
    func historyDeduplicates() {
        var editor = LineEditor()
        for line in ["a", "a", "   ", "b"] {
            editor.apply(.text(line))
            editor.apply(.enter)
        }
        #expect(editor.history == ["a", "b"])
    }

    @Test("the history keeps the most recent lines only")
    func historyLimit() {
        var editor = LineEditor()
        for number in 0..<(LineEditor.historyLimit + 10) {
            editor.apply(.text("line \(number)"))
            editor.apply(.enter)
        }
        #expect(editor.history.count == LineEditor.historyLimit)
        #expect(editor.history.last == "line \(LineEditor.historyLimit + 9)")
    }

    @Test("control characters and bidirectional overrides never enter the line")
    func controlsFiltered() {
        #expect(editor(typing: "a\u{1B}[2Jb\u{202E}c\u{7}").text == "a[2Jbc")
    }

    @Test("a long line scrolls to keep the cursor visible and back when it moves home")
    func horizontalScroll() {
        var editor = editor(typing: String(repeating: "abcdefghij", count: 5))
        var viewport = editor.viewport(width: 20)
        #expect(viewport.cursorColumn == 19)
        #expect(viewport.text == String(repeating: "abcdefghij", count: 5).suffix(19))
        editor.scrollOffset = viewport.offset
        editor.apply(.home)
        viewport = editor.viewport(width: 20)
        #expect(viewport.offset == 0)
        #expect(viewport.cursorColumn == 0)
        #expect(viewport.text == "abcdefghijabcdefghij")
    }

    @Test("moving inside the visible part does not scroll")
    func scrollIsStable() {
        var editor = editor(typing: String(repeating: "x", count: 50))
        editor.scrollOffset = editor.viewport(width: 20).offset
        let offset = editor.scrollOffset
        for _ in 0..<10 { editor.apply(.left) }
        let viewport = editor.viewport(width: 20)
        #expect(viewport.offset == offset)
        #expect(viewport.cursorColumn == 9)
    }

    @Test("wide characters count two columns and are never cut in half")
    func wideCharacters() {
        let editor = editor(typing: "漢字漢字漢字")
        let viewport = editor.viewport(width: 7)
        #expect(viewport.cursorColumn == 6)
        #expect(viewport.text == "字漢字")
    }

    @Test("the cursor stays within the width at every position, for any width")
    func cursorAlwaysVisible() {
        for width in 1...12 {
            var editor = editor(typing: "hello wide 漢字 world, and more")
            for _ in 0..<40 {
                let viewport = editor.viewport(width: width)
                #expect(viewport.cursorColumn <= width - 1)
                editor.scrollOffset = viewport.offset
                editor.apply(.left)
            }
        }
    }
}
