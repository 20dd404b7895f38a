import Foundation

/// One entry of a conversation's pane: a message, or something the interface tells the user.
enum PaneLine: Equatable, Sendable {
    case message(ChatMessage)
    case notice(Notice)

    static func info(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .info, text: text, at: date)) }
    static func warning(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .warning, text: text, at: date)) }
    static func error(_ text: String, at date: Date) -> PaneLine { .notice(Notice(kind: .error, text: text, at: date)) }
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

    private func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
