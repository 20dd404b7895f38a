/// "Did you mean …?" for a mistyped command or recipient: the known name nearest to what was
/// typed, when it is near enough to be a typo.
enum Suggestions {
    /// The candidate at the smallest edit distance from `typed`, if that distance is at most
    /// `maxDistance` (and less than the typed word's length, so "x" suggests nothing).
    static func closest(to typed: String, among candidates: [String], maxDistance: Int = 2) -> String? {
        let typed = Array(typed.lowercased().unicodeScalars)
        let scored = candidates.map { ($0, distance(typed, Array($0.lowercased().unicodeScalars))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= maxDistance, best.1 < typed.count else { return nil }
        return best.0
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
    /// neighbours each cost one ("sned" is one from "send").
    static func distance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    /// What to tell a user who named an unknown recipient: a contact spelled alike, or a room of
    /// theirs by that name (the shell drops an unquoted `#room`, so `send team` is a likely slip).
    static func unknownRecipient(_ typed: String, contacts: [String], rooms: [String]) -> String {
        var text = "no such user \(typed)"
        if rooms.contains("#" + typed) {
            text += "; did you mean '#\(typed)'? (quote it: the shell drops an unquoted #…)"
        } else if let contact = closest(to: typed, among: contacts) {
            text += "; did you mean \(contact)?"
        }
        return text
    }
}
