/// The conversation windows, irssi-style: window 1 is the status window (kept by `ChatModel`),
/// then one per conversation in the order opened, each with its lines, how many of them the
/// user has not seen, and where they stopped reading. Pure bookkeeping: which window is on
/// screen is the model's business.
struct ChatWindows: Sendable {
    /// Lines kept per window; older ones are dropped.
    static let lineLimit = 1000

    /// The conversations with a window, window 2 onwards.
    private(set) var names: [String] = []
    /// Per window, the messages and membership changes that came while it was not in view.
    private(set) var unread: [String: Int] = [:]
    private var lines: [String: [PaneLine]] = [:]
    /// Per window, how many of its oldest lines were dropped (`lineLimit`).
    private var dropped: [String: Int] = [:]
    /// Per window, where the user stopped reading: the number of lines it had (counting those
    /// dropped) when they left it, or before the first line that came while it was never in view.
    private var readMarkers: [String: Int] = [:]

    func contains(_ name: String) -> Bool { names.contains(name) }

    func lines(of name: String) -> [PaneLine] { lines[name] ?? [] }

    /// The window's number: 2 for the first conversation.
    func number(of name: String) -> Int? { names.firstIndex(of: name).map { $0 + 2 } }

    /// The conversation of window `number`, nil for none (1 is not a conversation's).
    func name(ofWindow number: Int) -> String? {
        number >= 2 && number - 2 < names.count ? names[number - 2] : nil
    }

    mutating func open(_ name: String) {
        if !names.contains(name) { names.append(name) }
    }

    mutating func append(_ line: PaneLine, to name: String) {
        open(name)
        lines[name, default: []].append(line)
        if lines[name]!.count > Self.lineLimit {
            lines[name]!.removeFirst()
            dropped[name, default: 0] += 1
        }
    }

    /// Replaces the line whose `matches` holds; false when there is none (dropped, or closed).
    mutating func replace(in name: String, where matches: (PaneLine) -> Bool, with line: PaneLine) -> Bool {
        guard let index = lines[name]?.firstIndex(where: matches) else { return false }
        lines[name]![index] = line
        return true
    }

    mutating func remove(in name: String, where matches: (PaneLine) -> Bool) {
        lines[name]?.removeAll(where: matches)
    }

    /// Something new came for `name` while it was not in view: counted, and when the user never
    /// left the window, the read marker goes before this first unseen line.
    mutating func markUnseen(_ name: String) {
        unread[name, default: 0] += 1
        if readMarkers[name] == nil { readMarkers[name] = lineCount(name) }
    }

    /// The user leaves `name`: what it shows now has been seen.
    mutating func leave(_ name: String) {
        readMarkers[name] = lineCount(name)
    }

    /// The user comes to `name`: its window opens if needed, and nothing in it is unread.
    mutating func enter(_ name: String) {
        open(name)
        unread[name] = nil
    }

    /// Closes `name`'s window, its lines with it; the windows after it move down a number.
    mutating func close(_ name: String) {
        names.removeAll { $0 == name }
        (lines[name], unread[name], readMarkers[name], dropped[name]) = (nil, nil, nil, nil)
    }

    /// Where the "new messages" line goes in `name`'s lines: before the first one the user has
    /// not seen, nil when they have seen them all.
    func readMarkerIndex(_ name: String) -> Int? {
        guard let marker = readMarkers[name] else { return nil }
        let index = max(0, marker - (dropped[name] ?? 0))
        return index < lines(of: name).count ? index : nil
    }

    /// The lines `name` has had, dropped ones included.
    private func lineCount(_ name: String) -> Int {
        (lines[name]?.count ?? 0) + (dropped[name] ?? 0)
    }
}
