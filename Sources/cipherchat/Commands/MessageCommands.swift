import ArgumentParser
import CipherClient
import Foundation

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message to a user or a room; exit 0 once the relay has stored it durably.",
        discussion: "Exit 6 when TO's identity changed (see 'cipherchat trust') or the trust policy refuses an unverified contact."
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The recipient's username, or a room (#name) you are a member of.")
    var to: String

    @Argument(parsing: .remaining, help: "The message; several words are joined with spaces.")
    var message: [String]

    @Option(help: "Give up after this many seconds without the relay's acknowledgement.")
    var timeout: Double = 30

    func run() async throws {
        try await runReportingFailures {
            guard !message.isEmpty else { throw CommandFailure.usage("nothing to send") }
            let client = try options.openClient()
            try await client.start(receiving: false)
            let text = message.joined(separator: " ")
            try await withDeadline(seconds: timeout) {
                if to.first == "#" {
                    try await client.sendToRoom(to, text: text)
                } else {
                    try await client.send(text, to: to)
                }
            }
            await client.stop()
        }
    }
}

struct RecvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recv",
        abstract: "Print the messages that have arrived, and acknowledge them.",
        discussion: """
            With --json, one object a line: id, from, to, sent_at, received_at (ISO 8601), kind, \
            text, verified, and room for a message to a room. A change to a room's membership is \
            kind "membership", with room, action (create, invite, remove, leave, grant-admin), by, \
            member and epoch. Without --json, a sender's control characters and bidirectional \
            overrides are shown as U+FFFD and a message's later lines are indented.
            """
    )

    @OptionGroup var options: ClientOptions

    @Flag(help: "One JSON object a line.")
    var json = false

    @Option(help: "When nothing is queued, wait up to this many seconds for something to arrive.")
    var wait: Double = 0

    @Flag(help: "Keep printing messages as they arrive, until interrupted.")
    var follow = false

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient()
            let events = client.events
            try await client.start()
            let progress = RecvProgress()
            if wait > 0, !follow {
                // Nothing queued and nothing arrived in time: done.
                Task {
                    try await Task.sleep(for: .milliseconds(Int(wait * 1000)))
                    if await progress.handled == 0 { await client.stop() }
                }
            }
            for await event in events {
                switch event {
                case .connected(let queued):
                    await progress.expect(queued)
                    if queued == 0, wait == 0, !follow { await client.stop() }
                case .message(let record):
                    if json { print(MessageFormat.json(record)) } else { printSafely(MessageFormat.line(record)) }
                    fflush(nil)
                case .warning(let text):
                    printError(text)
                case .deliveryHandled:
                    // Without --follow: everything queued at login is handled (or, when
                    // nothing was and --wait waited, the first arrival).
                    if await progress.handledOne(), !follow { await client.stop() }
                case .disconnected:
                    if !follow, await progress.handled > 0 { await client.stop() }
                }
            }
        }
    }
}

/// What `recv` has handled against what was queued when it logged in.
actor RecvProgress {
    private(set) var handled = 0
    private var expected: Int?

    func expect(_ queued: Int) {
        if expected == nil { expected = queued }
    }

    /// Counts one handled delivery; true when that completes the queue.
    func handledOne() -> Bool {
        handled += 1
        return handled >= max(expected ?? 1, 1)
    }
}

/// Runs `body`, failing with a clear message when it takes longer than `seconds`.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw CommandFailure.failure("the relay did not confirm within \(seconds) s; the message stays queued and is resent next time")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}

enum MessageFormat {
    static func line(_ record: ChatRecord) -> String {
        let time = Date(timeIntervalSince1970: Double(record.sentAtMilliseconds) / 1000)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let mark = record.verified ? " ✓" : ""
        if record.kind == "membership", let room = record.room {
            return "[\(formatter.string(from: time))] \(room): \(record.text)"
        }
        let place = record.room.map { " \($0)" } ?? ""
        return "[\(formatter.string(from: time))]\(place) \(record.from)\(mark): \(record.text)"
    }

    static func json(_ record: ChatRecord) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var object: [String: Any] = [
            "id": record.id,
            "from": record.from,
            "to": record.to,
            "sent_at": formatter.string(from: Date(timeIntervalSince1970: Double(record.sentAtMilliseconds) / 1000)),
            "received_at": formatter.string(from: Date(timeIntervalSince1970: Double(record.receivedAtMilliseconds) / 1000)),
            "kind": record.kind,
            "text": record.text,
            "verified": record.verified,
        ]
        if let room = record.room { object["room"] = room }
        if let change = record.membership {
            object["action"] = change.action
            object["by"] = change.by
            object["member"] = change.member
            object["epoch"] = change.epoch
        }
        return JSONLine.encode(object)
    }
}
