import CipherCore
import Foundation

/// Every human-readable line a command prints goes through `TerminalText`: it may hold a peer's
/// message, file name or username, or a name the relay sent, and a terminal would otherwise run
/// the escape sequences in it or show a line break as the start of a forged entry.
func printSafely(_ text: String) {
    print(TerminalText.block(text))
}
