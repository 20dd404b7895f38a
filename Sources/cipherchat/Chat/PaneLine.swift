import Foundation

/// One entry of a conversation's pane: a message, or something the interface tells the user.
enum PaneLine: Equatable, Sendable {
    case message(ChatMessage)
    case notice(Notice)
    /// A message the user typed that the relay has not stored yet (offline, or on its way);
    /// replaced by the message once it has.
    case pending(PendingMessage)

    /// The time shown beside the line.
    var time: Date {
        switch self {
        case .message(let message): message.shownTime
        case .notice(let notice): notice.at
        case .pending(let pending): pending.at
        }
    }

    static func info(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .info, text: text, at: date)) }
    static func warning(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .warning, text: text, at: date)) }
    static func error(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .error, text: text, at: date)) }
}

struct PendingMessage: Equatable, Sendable {
    /// Numbers the user's sends in the order typed, which is the order they are answered in.
    let id: Int
    let from: String
    let text: String
    let at: Date
}

struct Notice: Equatable, Sendable {
    enum Kind: Equatable, Sendable {
        /// Command output and connection changes.
        case info
        /// From the backend: something about security the user must see.
        case warning
        /// A command that failed, or a backend call that threw.
        case error
    }

    let kind: Kind
    let text: String
    let at: Date
}

extension ChatMessage {
    /// The other party: the sender of a received message, the recipient of a sent one.
    /// The conversation the message belongs to: the room for a room message, else the other user.
    func peer(of username: String) -> String { to.first == "#" || from == username ? to : from }

    /// The time shown beside the message: when it was written, by the sender's clock, so that a
    /// message queued while offline shows when it was sent rather than when it arrived.
    var shownTime: Date { sentAt }
}

/// Hours and minutes in one time zone, for every timestamp the interface shows.
struct ClockFormat: Sendable {
    let calendar: Calendar

    init(timeZone: TimeZone = .current) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    /// `HH:MM`.
    func hoursAndMinutes(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return twoDigits(parts.hour ?? 0) + ":" + twoDigits(parts.minute ?? 0)
    }

    /// The new day, `Friday 4 December 2026`, when `later` falls on another day than
    /// `earlier`; nil on the same day. In English whatever the locale, like the rest of the chat.
    func dayChanged(from earlier: Date, to later: Date) -> String? {
        let parts: Set<Calendar.Component> = [.year, .month, .day, .weekday]
        let before = calendar.dateComponents(parts, from: earlier)
        let after = calendar.dateComponents(parts, from: later)
        guard (before.year, before.month, before.day) != (after.year, after.month, after.day),
              let year = after.year, let month = after.month, let day = after.day, let weekday = after.weekday,
              (1...12).contains(month), (1...7).contains(weekday) else { return nil }
        return "\(Self.weekdays[weekday - 1]) \(day) \(Self.months[month - 1]) \(year)"
    }

    private static let weekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    private static let months = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    private func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
