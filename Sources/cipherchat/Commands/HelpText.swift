/// Text for `--help` that the argument parser shows as it is: lines wrapped here at 80 columns
/// with their indentation kept, where the parser would wrap them back to column 0.
enum HelpText {
    // The parser wraps a line that reaches its 80th column.
    static let width = 78

    /// `text` wrapped at word boundaries to lines of at most `width` columns, the first line
    /// starting with `firstIndent` spaces and the others with `indent`.
    static func wrap(_ text: String, firstIndent: Int, indent: Int) -> String {
        var lines: [String] = []
        var line = String(repeating: " ", count: firstIndent)
        var lineIsEmpty = true
        for word in text.split(separator: " ") {
            if !lineIsEmpty, line.count + 1 + word.count > width {
                lines.append(line)
                line = String(repeating: " ", count: indent)
                lineIsEmpty = true
            }
            line += (lineIsEmpty ? "" : " ") + word
            lineIsEmpty = false
        }
        lines.append(line)
        return lines.joined(separator: "\n")
    }

    /// A two-column list (`/msg USER TEXT` and what it does), the second column kept aligned
    /// on continuation lines. Each row is the name padded to `nameWidth`, then its text.
    static func columns(_ rows: [String], nameWidth: Int = 21, indent: Int = 2) -> String {
        rows.map { row in
            guard row.hasPrefix("/"), row.count > nameWidth else {
                return wrap(row, firstIndent: indent, indent: indent)
            }
            let name = row.prefix(nameWidth)
            let text = row.dropFirst(nameWidth).trimmingPrefixSpaces()
            let wrapped = wrap(String(text), firstIndent: indent + nameWidth, indent: indent + nameWidth)
            return String(repeating: " ", count: indent) + name + wrapped.dropFirst(indent + nameWidth)
        }.joined(separator: "\n")
    }
}

private extension Substring {
    func trimmingPrefixSpaces() -> Substring {
        drop { $0 == " " }
    }
}
