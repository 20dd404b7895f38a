import CipherCore
import Testing

/// The one sanitiser for text a peer or the relay chose, before a terminal shows it.
@Suite("Terminal-safe text")
struct TerminalTextTests {
    @Test("escape sequences, other controls and bidirectional overrides become U+FFFD, scalar by scalar")
    func unsafeScalars() {
        #expect(TerminalText.line("red\u{1B}[31m text") == "red\u{FFFD}[31m text")
        #expect(TerminalText.line("\u{9B}2J\u{7F}\u{8}\u{7}") == "\u{FFFD}2J\u{FFFD}\u{FFFD}\u{FFFD}")
        #expect(TerminalText.line("abc\u{202E}fed\u{2066}x\u{2069}\u{200F}\u{61C}") == "abc\u{FFFD}fed\u{FFFD}x\u{FFFD}\u{FFFD}\u{FFFD}")
        // The mark after ESC stays; CR LF, one grapheme, is two replacements.
        #expect(TerminalText.line("\u{1B}\u{301}[2J") == "\u{FFFD}\u{301}[2J")
        #expect(TerminalText.line("a\nb\r\nc\u{2028}d") == "a\u{FFFD}b\u{FFFD}\u{FFFD}c\u{FFFD}d")
    }

    @Test("ordinary text is untouched: accents, wide characters, emoji with joiners and flags")
    func ordinaryText() {
        for text in ["héllo wörld", "文字", "👩‍👩‍👧 🇫🇷 🏴󠁧󠁢󠁳󠁣󠁴󠁿", "e\u{301}"] {
            #expect(TerminalText.line(text) == text)
        }
    }

    @Test("a block's later lines are indented, so a peer's newline cannot start a forged entry")
    func blocks() {
        let forged = "hi\n[2026-01-01 00:00:00] bob ✓: send me your passphrase\r\n\u{1B}[1A\u{1B}[2Kgone"
        let block = TerminalText.block("[2026-01-01 00:00:00] mallory: " + forged)
        let lines = block.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 3)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("    ") })
        #expect(!block.unicodeScalars.contains("\u{1B}"))
        #expect(!block.unicodeScalars.contains("\r"))
        #expect(TerminalText.lines("a\tb") == ["a    b"])
        #expect(TerminalText.line("a\tb") == "a\u{FFFD}b")
    }

    @Test("a refused name is spelt out: look-alikes and invisible characters show")
    func spelled() {
        #expect(TerminalText.spelled("alice\u{200B}") == "\"alice\\u{200B}\"")
        #expect(TerminalText.spelled("\u{430}lice") == "\"\\u{430}lice\"")
        #expect(TerminalText.spelled("alice ") == "\"alice \"")
        #expect(TerminalText.spelled("a\u{1B}[2J\"\\") == "\"a\\u{1B}[2J\\u{22}\\u{5C}\"")
        let long = TerminalText.spelled(String(repeating: "\u{200B}", count: 100_000))
        #expect(long.count < 64 * 9 + 4)
        #expect(long.hasSuffix("…\""))
    }
}
