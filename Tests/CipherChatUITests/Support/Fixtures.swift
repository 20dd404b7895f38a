import Foundation

@testable import cipherchat

/// 2023-11-14 22:13:20 UTC: every test's "now", shown as 22:13.
let fixedNow = Date(timeIntervalSince1970: 1_700_000_000)
let utcClock = ClockFormat(timeZone: TimeZone(identifier: "UTC")!)

func message(
    from: String, to: String, _ text: String, verified: Bool = false, at date: Date = fixedNow, id: String? = nil
) -> ChatMessage {
    ChatMessage(
        id: id ?? UUID().uuidString, from: from, to: to, sentAt: date, receivedAt: date, text: text, verified: verified
    )
}

extension ChatModel {
    /// A model for alice, before any event.
    static func alice(talkingTo conversation: String? = nil) -> ChatModel {
        ChatModel(username: "alice", initialConversation: conversation, now: fixedNow)
    }

    mutating func receive(_ message: ChatMessage) {
        _ = receive(.message(message), now: fixedNow)
    }

    mutating func type(_ line: String) -> [Effect] {
        submit(line, now: fixedNow)
    }

    /// The texts of the current pane's notices, in order.
    var noticeTexts: [String] {
        currentLines.compactMap { line in
            if case .notice(let notice) = line { notice.text } else { nil }
        }
    }
}
