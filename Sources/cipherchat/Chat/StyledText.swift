import Foundation

/// How a run of text looks: SGR attributes of xterm-like terminals, nothing more.
struct TextStyle: Hashable, Sendable {
    /// An SGR colour code: 30–37 and 90–97 for foregrounds, 40–47 for backgrounds.
    var foreground: Int?
    var background: Int?
    var bold = false
    var dim = false

    static let plain = TextStyle()

    static func colour(_ code: Int, bold: Bool = false) -> TextStyle { TextStyle(foreground: code, bold: bold) }

    /// Whether colours are drawn: not when `NO_COLOR` is set to anything (no-color.org).
    static let coloursEnabled = (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty

    /// The SGR codes that select this style from the default one. Without colours, bold and dim
    /// stay, and a background (the status line's) becomes reverse video, so it still stands out.
    func sgrParameters(colours: Bool = TextStyle.coloursEnabled) -> [Int] {
        var codes: [Int] = []
        if bold { codes.append(1) }
        if dim { codes.append(2) }
        if colours {
            if let foreground { codes.append(foreground) }
            if let background { codes.append(background) }
        } else if background != nil {
            codes.append(7)
        }
        return codes
    }
}

/// Colours named for what they mean, so the renderer reads as a description of the screen.
enum Palette {
    static let red = 31, green = 32, yellow = 33, cyan = 36, white = 37, blueBackground = 44

    /// Readable on dark and light backgrounds alike; red is left out, it means an error.
    static let names = [32, 33, 34, 35, 36, 92, 93, 94, 95, 96]

    /// A colour for `name` that is the same in every run and on every machine: FNV-1a, because
    /// Swift's `hashValue` is seeded per process.
    static func colour(forName name: String) -> Int {
        var hash: UInt32 = 0x811C_9DC5
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return names[Int(hash % UInt32(names.count))]
    }
}

/// One screen row: text in runs of styles. Whoever builds it has made the text terminal-safe.
struct StyledLine: Equatable, Sendable {
    struct Span: Equatable, Sendable {
        var text: String
        var style: TextStyle
    }

    private(set) var spans: [Span] = []

    init(_ spans: [Span] = []) {
        for span in spans { append(span.text, span.style) }
    }

    init(_ text: String, _ style: TextStyle = .plain) {
        append(text, style)
    }

    mutating func append(_ text: String, _ style: TextStyle = .plain) {
        guard !text.isEmpty else { return }
        if spans.last?.style == style {
            spans[spans.count - 1].text += text
        } else {
            spans.append(Span(text: text, style: style))
        }
    }

    mutating func append(_ line: StyledLine) {
        for span in line.spans { append(span.text, span.style) }
    }

    var plain: String { spans.map(\.text).joined() }
    var width: Int { DisplayWidth.of(plain) }

    /// With escape sequences; every styled run ends with a reset, so rows never leak styles.
    /// `colours` is false under `NO_COLOR`.
    func ansi(colours: Bool = TextStyle.coloursEnabled) -> String {
        spans.map { span in
            let codes = span.style.sgrParameters(colours: colours)
            guard !codes.isEmpty else { return span.text }
            return "\u{1B}[" + codes.map(String.init).joined(separator: ";") + "m" + span.text + "\u{1B}[0m"
        }.joined()
    }

    /// Cut to at most `columns`; a wide character that would straddle the edge is left out.
    func truncated(to columns: Int) -> StyledLine {
        var result = StyledLine()
        var used = 0
        for span in spans {
            var kept = ""
            for character in span.text {
                let width = DisplayWidth.of(character)
                guard used + width <= columns else {
                    result.append(kept, span.style)
                    return result
                }
                kept.append(character)
                used += width
            }
            result.append(kept, span.style)
        }
        return result
    }

    /// Truncated, then padded with spaces in `style` to exactly `columns`.
    func filled(to columns: Int, _ style: TextStyle) -> StyledLine {
        var result = truncated(to: columns)
        result.append(String(repeating: " ", count: max(0, columns - result.width)), style)
        return result
    }
}
