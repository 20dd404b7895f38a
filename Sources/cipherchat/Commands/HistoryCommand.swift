import ArgumentParser
import CipherClient
import Foundation

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Show the recent messages kept in the local store, oldest first.",
        discussion: "With --json, one object a line, with the fields of 'recv --json'. Goes through the home's owner when one runs."
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "Only the conversation with this user, or this room (#name).")
    var conversation: String?

    @Option(help: "At most this many messages (1 to 10000).")
    var limit: Int = 50

    @Flag(help: "One JSON object a line.")
    var json = false

    func run() async throws {
        try await runReportingFailures {
            let access = try options.access(command: "cipherchat history")
            var params: [String: Any] = ["limit": limit]
            if let conversation { params["with"] = conversation }
            let result = try await access.call("history", params, timeout: 30)
            await access.finish()
            for object in result as? [[String: Any]] ?? [] {
                if json { print(JSONLine.encode(object)) } else { printSafely(HistoryLine.text(object)) }
            }
        }
    }
}

/// A history record from the API as `recv` prints a message.
enum HistoryLine {
    static func text(_ object: [String: Any]) -> String {
        let sent = (object["sent_at"] as? String).map { String($0.prefix(19)).replacingOccurrences(of: "T", with: " ") } ?? "?"
        let from = object["from"] as? String ?? "?"
        let mark = object["verified"] as? Bool == true ? " ✓" : ""
        let place = (object["room"] as? String).map { " \($0)" } ?? ""
        let text = object["text"] as? String ?? ""
        if object["kind"] as? String == "membership" { return "[\(sent)]\(place): \(text)" }
        return "[\(sent)]\(place) \(from)\(mark): \(text)"
    }
}
