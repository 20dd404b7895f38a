/// The configuration file of `cipherchat server --config FILE`: one `key = value` a line, the
/// keys those of the flags without their dashes. `#` starts a comment line; blank lines are
/// skipped; a value may be put in double quotes (taken as written, without escapes), so a file
/// whose text values are quoted is also valid TOML. Flat on purpose: every setting is one
/// value, so nothing needs sections, lists or a parser from outside.
struct ConfigurationFile {
    struct Entry: Equatable {
        let key: String
        let value: String
        let line: Int
    }

    let entries: [Entry]

    /// Parses `text`; `name` is the file's path, for messages. Fails on a line that is not
    /// `key = value`, and on a key given twice.
    init(parsing text: String, name: String) throws(ServerSettingsError) {
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw ServerSettingsError("\(name):\(number): expected 'key = value'")
            }
            let key = line[..<equals].trimmingWhitespace()
            var value = line[line.index(after: equals)...].trimmingWhitespace()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw ServerSettingsError("\(name):\(number): expected 'key = value'")
            }
            if value.hasPrefix("\"") {
                guard value.count >= 2, value.hasSuffix("\"") else {
                    throw ServerSettingsError("\(name):\(number): the quoted value of '\(key)' does not end with a quote")
                }
                value = String(value.dropFirst().dropLast())
            }
            if let first = seen[key] {
                throw ServerSettingsError("\(name):\(number): '\(key)' was already set on line \(first)")
            }
            seen[key] = number
            entries.append(Entry(key: key, value: value, line: number))
        }
        self.entries = entries
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: { $0.isWhitespace }).reversed().drop(while: { $0.isWhitespace }).reversed())
    }
}
