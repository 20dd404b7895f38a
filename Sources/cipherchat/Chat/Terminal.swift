#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// The controlling terminal, thinly: raw mode on and off, its size, and writing to it. Every
/// decision about what to draw lives elsewhere.
enum Terminal {
    struct NotATerminal: Error, CustomStringConvertible {
        var description: String { "standard input is not a terminal" }
    }

    /// A terminal the full-screen chat can drive: not `TERM=dumb`, which moves no cursor.
    static var isInteractive: Bool {
        isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// Rows and columns, or 24×80 when the terminal will not say.
    static func size() -> ChatScreen.Size {
        var size = winsize()
        let result = withUnsafeMutablePointer(to: &size) { ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), $0) }
        guard result == 0, size.ws_row > 0, size.ws_col > 0 else { return ChatScreen.Size(rows: 24, columns: 80) }
        return ChatScreen.Size(rows: Int(size.ws_row), columns: Int(size.ws_col))
    }

    /// Writes all of `text` to standard output, through interrupted and partial writes.
    static func write(_ text: String) { writeAll(text) }

    /// Raw mode: every key reaches the program at once, unechoed, ctrl-c and ctrl-z included.
    /// `restore()` puts back the settings found; it also runs at process exit, so that a path
    /// that calls `exit` does not leave the user's shell unusable.
    struct RawMode: Sendable {
        private let original: termios

        static func enable() throws -> RawMode {
            var original = termios()
            guard tcgetattr(STDIN_FILENO, &original) == 0 else { throw NotATerminal() }
            var raw = original
            cfmakeraw(&raw)
            // cfmakeraw leaves reads returning at least one byte and waiting forever for it.
            withUnsafeMutableBytes(of: &raw.c_cc) { controls in
                controls[Int(VMIN)] = 1
                controls[Int(VTIME)] = 0
            }
            guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 else { throw NotATerminal() }
            saveForExit(original)
            return RawMode(original: original)
        }

        func restore() {
            var original = original
            tcsetattr(STDIN_FILENO, TCSADRAIN, &original)
            Self.saveForExit(nil)
        }
    }
}

/// The settings to restore if the process exits while in raw mode, and whether the `atexit`
/// hook is in place. A global because `atexit` takes a C function, which captures nothing.
private let savedAtExit = Mutex<(settings: termios?, registered: Bool)>((nil, false))

extension Terminal.RawMode {
    fileprivate static func saveForExit(_ settings: termios?) {
        let register = savedAtExit.withLock { saved in
            saved.settings = settings
            defer { saved.registered = true }
            return !saved.registered
        }
        if register { atexit { restoreAtExit() } }
    }
}

private func restoreAtExit() {
    guard var settings = savedAtExit.withLock({ $0.settings }) else { return }
    tcsetattr(STDIN_FILENO, TCSADRAIN, &settings)
    writeAll(ANSI.showCursor + ANSI.leaveAlternateScreen)
}

/// At file scope so that `write` is the C function, not `Terminal.write`.
private func writeAll(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        if written > 0 {
            bytes = bytes.dropFirst(written)
        } else if written < 0, errno == EINTR || errno == EAGAIN {
            continue
        } else {
            return  // the terminal is gone; nothing left to tell it
        }
    }
}
