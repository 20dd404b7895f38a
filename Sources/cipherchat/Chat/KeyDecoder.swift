/// Turns the bytes a terminal in raw mode sends into `Key`s: UTF-8 text, control characters and
/// the escape sequences of xterm-like terminals (CSI `ESC [`, SS3 `ESC O`, alt as an `ESC`
/// prefix). Input may be split anywhere, even inside a UTF-8 character or a sequence: an
/// incomplete tail waits for the next `decode` call, and `flush()` gives it up when no more bytes
/// came in time (a lone escape key looks exactly like the start of a sequence).
struct KeyDecoder: Sendable {
    private var pending: [UInt8] = []

    /// Whether bytes are waiting for the rest of a sequence; the caller flushes after a short wait.
    var hasPending: Bool { !pending.isEmpty }

    mutating func decode(_ bytes: some Sequence<UInt8>) -> [Key] {
        pending.append(contentsOf: bytes)
        var keys: [Key] = []
        var index = 0
        while index < pending.count {
            guard let (key, length) = Self.parse(pending[index...]) else { break }
            if let key { Self.append(key, to: &keys) }
            index += length
        }
        pending.removeFirst(index)
        return keys
    }

    /// Gives up waiting: an incomplete escape sequence becomes `.escape` (or alt-nothing), an
    /// incomplete UTF-8 character becomes U+FFFD.
    mutating func flush() -> [Key] {
        guard !pending.isEmpty else { return [] }
        defer { pending.removeAll() }
        return pending[0] == Self.esc ? [.escape] : [.text("\u{FFFD}")]
    }

    private static let esc: UInt8 = 0x1B

    /// Consecutive text keys merge, so that a paste is edited and drawn once.
    private static func append(_ key: Key, to keys: inout [Key]) {
        if case .text(let more) = key, case .text(let text)? = keys.last {
            keys[keys.count - 1] = .text(text + more)
        } else {
            keys.append(key)
        }
    }

    /// The key at the start of `bytes` and how many bytes it used; a nil key for bytes that
    /// mean nothing here; nil when `bytes` ends before the key does.
    private static func parse(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let first = bytes[bytes.startIndex]
        switch first {
        case esc: return parseEscape(bytes)
        case 0x00..<0x20, 0x7F: return (controlKey(first), 1)
        case 0x80..<0xC2, 0xF5...0xFF: return (.text("\u{FFFD}"), 1)
        default: return parseUTF8(bytes)
        }
    }

    private static func controlKey(_ byte: UInt8) -> Key? {
        switch byte {
        case 0x01: .home  // ctrl-a
        case 0x02: .left  // ctrl-b
        case 0x03: .interrupt  // ctrl-c
        case 0x04: .endOfInput  // ctrl-d
        case 0x05: .end  // ctrl-e
        case 0x06: .right  // ctrl-f
        case 0x08, 0x7F: .backspace  // ctrl-h, DEL
        case 0x09: .tab
        case 0x0A, 0x0D: .enter
        case 0x0B: .deleteToEnd  // ctrl-k
        case 0x0C: .redraw  // ctrl-l
        case 0x0E: .down  // ctrl-n
        case 0x10: .up  // ctrl-p
        case 0x15: .deleteToStart  // ctrl-u
        case 0x17: .deleteWordBefore  // ctrl-w
        default: nil
        }
    }

    private static func parseUTF8(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let first = bytes[bytes.startIndex]
        let length = first < 0x80 ? 1 : first < 0xE0 ? 2 : first < 0xF0 ? 3 : 4
        // A continuation byte missing in the middle: the lead byte alone is invalid.
        for offset in 1..<max(length, 1) {
            let index = bytes.startIndex + offset
            guard index < bytes.endIndex else { return nil }
            guard bytes[index] & 0xC0 == 0x80 else { return (.text("\u{FFFD}"), offset) }
        }
        let encoded = bytes.prefix(length)
        let text = String(validating: encoded, as: UTF8.self) ?? "\u{FFFD}"
        return (.text(text), length)
    }

    private static func parseEscape(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let start = bytes.startIndex
        guard bytes.count > 1 else { return nil }
        let second = bytes[start + 1]
        switch second {
        case UInt8(ascii: "["): return parseCSI(bytes)
        case UInt8(ascii: "O"):
            guard bytes.count > 2 else { return nil }
            return (ss3Key(bytes[start + 2]), 3)
        case UInt8(ascii: "b"): return (.wordLeft, 2)  // alt-b
        case UInt8(ascii: "f"): return (.wordRight, 2)  // alt-f
        case 0x7F, 0x08: return (.deleteWordBefore, 2)  // alt-backspace
        case UInt8(ascii: "0"): return (.window(10), 2)  // alt-0, as in irssi
        case UInt8(ascii: "1")...UInt8(ascii: "9"): return (.window(Int(second - UInt8(ascii: "0"))), 2)
        case esc: return (.escape, 1)
        default: return (.escape, 1)
        }
    }

    private static func ss3Key(_ final: UInt8) -> Key? {
        switch final {
        case UInt8(ascii: "A"): .up
        case UInt8(ascii: "B"): .down
        case UInt8(ascii: "C"): .right
        case UInt8(ascii: "D"): .left
        case UInt8(ascii: "H"): .home
        case UInt8(ascii: "F"): .end
        default: nil
        }
    }

    /// `ESC [ params final`: parameters are digits and `;`, the final byte is in 0x40...0x7E.
    private static func parseCSI(_ bytes: ArraySlice<UInt8>) -> (Key?, Int)? {
        let start = bytes.startIndex
        var index = start + 2
        while index < bytes.endIndex, (0x20...0x3F).contains(bytes[index]) { index += 1 }
        guard index < bytes.endIndex else { return nil }
        let final = bytes[index]
        let length = index - start + 1
        guard (0x40...0x7E).contains(final) else { return (nil, length - 1) }  // not CSI after all
        let parameters = String(decoding: bytes[(start + 2)..<index], as: UTF8.self)
            .split(separator: ";", omittingEmptySubsequences: false).map { Int($0) }
        let modified = parameters.count > 1 && (parameters[1] ?? 1) > 1  // ctrl, alt or shift held
        switch final {
        case UInt8(ascii: "A"): return (.up, length)
        case UInt8(ascii: "B"): return (.down, length)
        case UInt8(ascii: "C"): return (modified ? .wordRight : .right, length)
        case UInt8(ascii: "D"): return (modified ? .wordLeft : .left, length)
        case UInt8(ascii: "H"): return (.home, length)
        case UInt8(ascii: "F"): return (.end, length)
        case UInt8(ascii: "~"):
            switch parameters.first ?? nil {
            case 1, 7: return (.home, length)
            case 3: return (.delete, length)
            case 4, 8: return (.end, length)
            case 5: return (.pageUp, length)
            case 6: return (.pageDown, length)
            default: return (nil, length)
            }
        default: return (nil, length)
        }
    }
}
