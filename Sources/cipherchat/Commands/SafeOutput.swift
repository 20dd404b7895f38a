import CipherCore
import Foundation

/// Every human-readable line a command prints goes through `TerminalText`: it may hold a peer's
/// message, file name or username, or a name the relay sent, and a terminal would otherwise run
/// the escape sequences in it or show a line break as the start of a forged entry.
func printSafely(_ text: String) {
    print(TerminalText.block(text))
}

/// One JSON object on one line, for scripts. JSON escapes C0 controls already; DEL, C1 controls
/// and bidirectional overrides are escaped too (`\u009b`), so that the line stays harmless on a
/// terminal and decodes to the same text.
enum JSONLine {
    static func encode(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        var line = ""
        for scalar in String(decoding: data, as: UTF8.self).unicodeScalars {
            // Every unsafe scalar is in the Basic Multilingual Plane: one \uXXXX escape each.
            if TerminalText.isUnsafe(scalar) { line += String(format: "\\u%04x", scalar.value) } else { line.unicodeScalars.append(scalar) }
        }
        return line
    }
}
