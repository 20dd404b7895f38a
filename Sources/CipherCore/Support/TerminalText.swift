/// Text from a peer or the relay made safe to show on a terminal: no escape sequences, no
/// controls that move the cursor or end a line, no bidirectional overrides. A peer chooses its
/// message text, its file names and (through the relay) more, and could otherwise rewrite the
/// user's screen or forge a line that looks like another message. Every human-readable output
/// of such text, in the chat and in the plain commands, goes through here.
///
/// It works one Unicode scalar at a time, as the file-name filter must (`ReceivedFileName`): every
/// unsafe scalar becomes one U+FFFD, whatever grapheme cluster it is part of.
public enum TerminalText {
    /// What stands in for each unsafe scalar: visible, and never part of a sequence.
    public static let replacement: Unicode.Scalar = "\u{FFFD}"

    /// Every unsafe scalar replaced by U+FFFD, line breaks included: one line.
    public static func line(_ text: some StringProtocol) -> String {
        var safe = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            safe.append(isUnsafe(scalar) ? replacement : scalar)
        }
        return String(safe)
    }

    /// The text's lines, each made safe; a tab becomes four spaces. Line breaks are CR, LF,
    /// CR LF, and the other breaks Unicode names (VT, FF, NEL, U+2028, U+2029).
    public static func lines(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\t", with: "    ")
            .split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { line($0) }
    }

    /// Shown with its later lines indented, so that every line of the output that starts at the
    /// margin starts an entry the program wrote: a peer's text cannot forge one.
    public static func block(_ text: String, indent: String = "    ") -> String {
        lines(text).enumerated().map { index, line in index == 0 ? line : indent + line }.joined(separator: "\n")
    }

    /// A name that failed validation, quoted and spelt out: printable ASCII as it is, every other
    /// scalar as `\u{XXXX}`, so that `alice\u{200B}` or a Cyrillic `а` cannot pass for `alice`
    /// on the screen. At most `limit` scalars are shown.
    public static func spelled(_ name: String, limit: Int = 64) -> String {
        var shown = "\""
        for (index, scalar) in name.unicodeScalars.enumerated() {
            guard index < limit else {
                shown += "…"
                break
            }
            if (0x20...0x7E).contains(scalar.value), scalar != "\"", scalar != "\\" {
                shown.unicodeScalars.append(scalar)
            } else {
                shown += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return shown + "\""
    }

    /// C0 and C1 controls and DEL (general category Cc: ESC and CSI start sequences, CR and BS
    /// move the cursor), the bidirectional formatting characters that make text read in another
    /// order than it is stored, and the line and paragraph separators. Other format characters
    /// stay: ZWJ joins emoji, and tags make flags.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: return true
        default: break
        }
        switch scalar.value {
        case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
