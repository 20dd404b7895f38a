import Foundation
import Testing

@testable import cipherchat

@Suite("Rendering the full screen")
struct ChatScreenTests {
    func render(
        _ model: ChatModel, _ editor: LineEditor = LineEditor(), rows: Int = 10, columns: Int = 60
    ) -> ScreenFrame {
        ChatScreen(size: .init(rows: rows, columns: columns), username: model.username, clock: utcClock)
            .render(model, editor)
    }

    /// SGR sequences removed: what is left must contain no escape at all.
    func withoutStyles(_ ansi: String) -> String {
        ansi.replacing(try! Regex("\u{1B}\\[[0-9;]*m"), with: "")
    }

    @Test("pane, status line and input line fill the screen from top to bottom")
    func layout() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "hi alice", verified: true))
        model.receive(message(from: "alice", to: "bob", "hi bob", verified: true))
        var editor = LineEditor()
        editor.apply(.text("typing"))
        let frame = render(model, editor)

        #expect(frame.rows.count == 10)
        #expect(frame.text[6] == "22:13 <bob✓> hi alice")
        #expect(frame.text[7] == "22:13 <alice> hi bob")
        #expect(frame.text[8].hasPrefix(" [alice] [connecting…] [with bob✓] "))
        #expect(frame.text[8].count == 60)
        #expect(frame.text[9] == "[bob] typing")
        #expect(frame.cursorRow == 9)
        #expect(frame.cursorColumn == 12)
        #expect(frame.text[0...5].allSatisfy { $0.isEmpty })  // the welcome line is in the status pane
    }

    @Test("names have a stable colour each; the user's own is bold; the verified mark is green")
    func nameStyles() {
        #expect(Palette.colour(forName: "bob") == 36)
        #expect(Palette.colour(forName: "carol") == 34)
        #expect(Palette.colour(forName: "bob") == Palette.colour(forName: "bob"))

        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "hi", verified: true))
        model.receive(message(from: "alice", to: "bob", "hey"))
        let frame = render(model)
        #expect(frame.rows[6].ansi(colours: true).contains("<\u{1B}[36mbob\u{1B}[0m\u{1B}[1;32m✓\u{1B}[0m>"))
        #expect(frame.rows[7].ansi(colours: true).contains("<\u{1B}[1malice\u{1B}[0m>"))
    }

    @Test("with NO_COLOR set, no colour is drawn: bold and dim stay, and the status line's background becomes reverse video")
    func noColour() {
        let status = TextStyle(foreground: Palette.white, background: Palette.blueBackground, bold: true)
        #expect(status.sgrParameters(colours: true) == [1, Palette.white, Palette.blueBackground])
        #expect(status.sgrParameters(colours: false) == [1, 7])
        #expect(TextStyle.colour(Palette.green).sgrParameters(colours: false).isEmpty)
        #expect(TextStyle(dim: true).sgrParameters(colours: false) == [2])
    }

    @Test("escape sequences and controls in a message or a name cannot reach the terminal")
    func hostileText() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "\u{1B}]0;pwned\u{7}\u{1B}[2Jgone\u{202E}drow"))
        model.receive(message(from: "bob\u{1B}[31m", to: "alice", "hi"))
        _ = model.receive(.warning("\u{1B}[?1049lout"), now: fixedNow)
        let frame = render(model)
        for row in frame.rows {
            #expect(!withoutStyles(row.ansi(colours: true)).contains("\u{1B}"))
            #expect(!row.plain.contains("\u{7}"))
            #expect(!row.plain.contains("\u{202E}"))
        }
        #expect(frame.text.contains("22:13 <bob> \u{FFFD}]0;pwned\u{FFFD}\u{FFFD}[2Jgone\u{FFFD}drow"))
    }

    @Test("long messages wrap at spaces, continuation rows indented under the text")
    func wrapping() {
        var model = ChatModel.alice(talkingTo: "bob")
        let text = "the quick brown fox jumps over the lazy dog and then some more words follow it"
        model.receive(message(from: "bob", to: "alice", text))
        let frame = render(model, columns: 30)
        let rows = frame.text[0..<8].filter { !$0.isEmpty }
        #expect(rows.count > 2)
        #expect(rows.allSatisfy { $0.count <= 30 })
        #expect(rows.dropFirst().allSatisfy { $0.hasPrefix("      ") && !$0.hasPrefix("       ") })
        let words = rows.joined(separator: " ").split(separator: " ").dropFirst(2).joined(separator: " ")
        #expect(words == text)
    }

    @Test("a word longer than a row is cut where the row ends")
    func longWord() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", String(repeating: "x", count: 70)))
        let frame = render(model, columns: 30)
        let rows = frame.text[0..<8].filter { !$0.isEmpty }
        #expect(rows.allSatisfy { $0.count <= 30 })
        #expect(rows.joined().filter { $0 == "x" }.count == 70)
    }

    @Test("lines of a multi-line message each start a row")
    func multiLine() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "first\nsecond\r\nthird"))
        let frame = render(model)
        #expect(Array(frame.text[5..<8]) == ["22:13 <bob> first", "      second", "      third"])
    }

    @Test("the status line shows the connection and the window list, a window with something new marked")
    func statusLine() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.receive(.connection(.connected), now: fixedNow)
        model.receive(message(from: "dave", to: "alice", "1"))
        model.receive(message(from: "carol", to: "alice", "1"))
        model.receive(message(from: "carol", to: "alice", "2"))
        #expect(render(model, columns: 80).text[8].hasPrefix(" [alice] [connected] [with bob] [1:status 2:bob 3:dave* 4:carol*] "))

        _ = model.receive(.connection(.disconnected(retryInSeconds: 3)), now: fixedNow)
        _ = model.type("/query carol")
        #expect(render(model, columns: 80).text[8].hasPrefix(" [alice] [offline — reconnecting] [with carol] [1:status 2:bob 3:dave* 4:carol] "))
    }

    @Test("without a conversation the prompt is '> ' and the status pane shows")
    func statusPane() {
        let frame = render(ChatModel.alice())
        #expect(frame.text[7] == "22:13 -!- CipherChat as alice. /help lists commands.")
        #expect(frame.text[9] == "> ")
        #expect(frame.cursorColumn == 2)
    }

    @Test("page up shows older lines, and scrolling stops at the oldest")
    func scrollback() {
        var model = ChatModel.alice(talkingTo: "bob")
        for number in 0..<10 { model.receive(message(from: "bob", to: "alice", "m\(number)")) }
        #expect(render(model, rows: 5).text[0..<3].map { $0.suffix(2) } == ["m7", "m8", "m9"])

        model.scroll(by: 3)
        var frame = render(model, rows: 5)
        #expect(frame.text[0..<3].map { $0.suffix(2) } == ["m4", "m5", "m6"])
        #expect(frame.text[3].contains("[more below: page down]"))

        model.scroll(by: 100)
        frame = render(model, rows: 5)
        #expect(frame.scrollback == 7)
        #expect(frame.text[0..<3].map { $0.suffix(2) } == ["m0", "m1", "m2"])
    }

    @Test("page up and page down move by a screenful less one row")
    func pageKeys() {
        var model = ChatModel.alice(talkingTo: "bob")
        var editor = LineEditor()
        _ = KeyBindings.apply(.pageUp, model: &model, editor: &editor, paneHeight: 8, now: fixedNow)
        #expect(model.scrollback == 7)
        _ = KeyBindings.apply(.pageDown, model: &model, editor: &editor, paneHeight: 8, now: fixedNow)
        #expect(model.scrollback == 0)
    }

    @Test("a long input line scrolls horizontally with the cursor on screen")
    func inputScrolls() {
        var editor = LineEditor()
        editor.apply(.text(String(repeating: "0123456789", count: 10)))
        let frame = render(ChatModel.alice(talkingTo: "bob"), editor, columns: 40)
        #expect(frame.cursorColumn == 39)
        #expect(frame.text[9] == "[bob] " + String(repeating: "0123456789", count: 10).suffix(33))
        #expect(frame.inputOffset == 67)
    }

    @Test("every size renders, however small, with every row inside the screen", arguments: 1...5)
    func smallSizes(rows: Int) {
        var model = ChatModel.alice(talkingTo: "somebody-with-a-long-name")
        model.receive(message(from: "somebody-with-a-long-name", to: "alice", "漢字 and a rather long message"))
        var editor = LineEditor()
        editor.apply(.text("draft 漢字"))
        for columns in 1...16 {
            let frame = render(model, editor, rows: rows, columns: columns)
            #expect(frame.rows.count == rows)
            #expect(frame.rows.allSatisfy { $0.width <= columns })
            #expect(frame.cursorRow == rows - 1)
            #expect(frame.cursorColumn < max(columns, 1))
        }
    }

    @Test("after a resize the status line spans the new width")
    func resize() {
        let model = ChatModel.alice(talkingTo: "bob")
        for columns in [20, 80, 132] {
            let frame = render(model, rows: 24, columns: columns)
            #expect(frame.rows.count == 24)
            #expect(frame.rows[22].width == columns)
        }
    }
}

@Suite("Writing frames to the terminal")
struct ScreenWriterTests {
    func frame(_ rows: [String], cursor: Int = 0) -> ScreenFrame {
        ScreenFrame(
            rows: rows.map { StyledLine($0) }, cursorRow: rows.count - 1, cursorColumn: cursor,
            scrollback: 0, inputOffset: 0)
    }

    @Test("the first frame is drawn whole, on a cleared screen")
    func firstFrame() {
        var writer = ScreenWriter()
        let out = writer.update(to: frame(["a", "b", "> x"], cursor: 3))
        #expect(out.contains(ANSI.clearScreen))
        for row in 0..<3 { #expect(out.contains(ANSI.moveTo(row: row, column: 0))) }
        #expect(out.hasSuffix(ANSI.moveTo(row: 2, column: 3) + ANSI.showCursor))
    }

    @Test("later frames rewrite only the rows that changed, leaving the input line alone")
    func onlyChangedRows() {
        var writer = ScreenWriter()
        _ = writer.update(to: frame(["", "old", "> typing"]))
        let out = writer.update(to: frame(["old", "new", "> typing"], cursor: 8))
        #expect(!out.contains(ANSI.clearScreen))
        #expect(out.contains(ANSI.moveTo(row: 0, column: 0) + "old"))
        #expect(out.contains(ANSI.moveTo(row: 1, column: 0) + "new"))
        #expect(!out.contains("typing"))
    }

    @Test("after invalidate, or a new number of rows, everything is drawn again")
    func fullRedraw() {
        var writer = ScreenWriter()
        _ = writer.update(to: frame(["a", "b"]))
        writer.invalidate()
        #expect(writer.update(to: frame(["a", "b"])).contains(ANSI.clearScreen))
        #expect(writer.update(to: frame(["a", "b", "c"])).contains(ANSI.clearScreen))
    }
}

@Suite("Plain lines when output is not a terminal")
struct PlainPrinterTests {
    let printer = PlainPrinter(clock: utcClock)

    @Test("a message is one line: time, sender, recipient, text")
    func messageLine() {
        let lines = printer.lines(for: .message(message(from: "bob", to: "alice", "hi there", verified: true)))
        #expect(lines.map(\.text) == ["[22:13] bob -> alice: hi there"])
        #expect(lines.map(\.stream) == [.output])
    }

    @Test("a multi-line message continues on indented lines, made terminal-safe")
    func multiLine() {
        let lines = printer.lines(for: .message(message(from: "bob", to: "alice", "one\ntwo\u{1B}[2J")))
        #expect(lines.map(\.text) == ["[22:13] bob -> alice: one", "    two\u{FFFD}[2J"])
    }

    @Test("notices go to standard output, warnings and errors to standard error")
    func notices() {
        #expect(printer.lines(for: .info("connected", at: fixedNow)).map(\.text) == ["[22:13] -!- connected"])
        let warning = printer.lines(for: .warning("key changed", at: fixedNow))
        #expect(warning.map(\.text) == ["[22:13] warning: key changed"])
        #expect(warning.map(\.stream) == [.error])
        #expect(printer.lines(for: .error("boom", at: fixedNow)).map(\.stream) == [.error])
    }
}

@Suite("Separators in a pane: the day changing, and where the user left off")
struct PaneSeparatorTests {
    func render(_ model: ChatModel, rows: Int = 12) -> [String] {
        ChatScreen(size: .init(rows: rows, columns: 50), username: model.username, clock: utcClock)
            .render(model, LineEditor()).text
    }

    @Test("a line with the new day's date comes between two messages of different days, and none between two of one day")
    func dayChanged() {
        var model = ChatModel.alice(talkingTo: "bob")
        let evening = Date(timeIntervalSince1970: 1_700_092_740)  // Wednesday 15 November 2023, 23:59 UTC
        model.receive(message(from: "bob", to: "alice", "late", at: evening))
        model.receive(message(from: "bob", to: "alice", "still late", at: evening + 30))
        model.receive(message(from: "bob", to: "alice", "early", at: evening + 120))
        let text = render(model)
        #expect(Array(text[6..<10]) == [
            "23:59 <bob> late",
            "23:59 <bob> still late",
            "--- Thursday 16 November 2023 --------------------",
            "00:01 <bob> early",
        ])
    }

    @Test("history is not new; a message that came while the user was elsewhere comes after a new-messages line, which stays until they leave")
    func newMessages() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.receive(.history([.message(message(from: "carol", to: "alice", "old news"))]), now: fixedNow)
        #expect(model.windowEntries.map(\.active) == [false, false, false])
        #expect(model.receive(.message(message(from: "carol", to: "alice", "news")), now: fixedNow).contains(.bell))
        #expect(!model.receive(.message(message(from: "bob", to: "alice", "here")), now: fixedNow).contains(.bell))
        _ = model.goTo(.number(3), now: fixedNow)
        #expect(Array(render(model)[7..<10]) == [
            "22:13 <carol> old news",
            "--- new messages ---------------------------------",
            "22:13 <carol> news",
        ])
        _ = model.goTo(.number(2), now: fixedNow)
        _ = model.goTo(.number(3), now: fixedNow)
        #expect(!render(model).contains { $0.contains("new messages") })
    }
}
