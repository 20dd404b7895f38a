import ArgumentParser
import CipherClient
import CipherRelay
import Foundation

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message to a user or a room; exit 0 once the relay has stored it durably.",
        discussion: """
            The message is encrypted into the local outbox first, and every command that connects \
            sends what the outbox holds. Exit 9 when the relay has not confirmed it within \
            --timeout or cannot store it now: it stays in the outbox. Exit 6 when TO's identity \
            changed (see 'cipherchat trust') or the trust policy refuses an unverified contact.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The recipient's username, or a room (#name) you are a member of.")
    var to: String

    @Argument(parsing: .remaining, help: "The message; several words are joined with spaces.")
    var message: [String]

    @Option(help: "Give up after this many seconds without the relay's acknowledgement (exit 9).")
    var timeout: Double = 30

    func run() async throws {
        try await runReportingFailures {
            guard !message.isEmpty else { throw CommandFailure.usage("nothing to send") }
            guard timeout > 0, timeout <= 86_400 else { throw CommandFailure.usage("--timeout must be between 0 and 86400 seconds") }
            let client = try options.openClient()
            let text = message.joined(separator: " ")
            let outboxBefore = try await client.outboxCount()
            // With a session to send on, the message is sealed before anything goes to the
            // relay: it is kept whatever the relay does, and resent by the next command.
            let sealed = to.first == "#" ? false : try await client.sealIntoOutbox(text, to: to)
            let to = self.to
            do {
                try await withDeadline(seconds: timeout) {
                    try await client.start(receiving: false)
                    if sealed {
                        try await client.outboxSent()
                    } else if to.first == "#" {
                        try await client.sendToRoom(to, text: text)
                    } else {
                        try await client.send(text, to: to)
                    }
                    await client.stop()
                }
            } catch {
                let outboxAfter = (try? await client.outboxCount()) ?? 0
                let kept = sealed || outboxAfter > outboxBefore
                throw CommandFailure.unconfirmed(error, keptInOutbox: kept) ?? error
            }
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
            member and epoch.
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
                    print(json ? MessageFormat.json(record) : MessageFormat.line(record))
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

/// Runs `body`, throwing `CommandTimeout` once `seconds` have passed whatever the relay does:
/// the body runs in a task of its own and is left behind, so a call that does not end on
/// cancellation (a reply that never comes) cannot hold the command.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    guard let result = try await Deadline.result(by: .now + .milliseconds(Int64(seconds * 1000)), of: body) else {
        throw CommandTimeout(seconds: seconds)
    }
    return result
}

/// A command's time ran out before the relay answered.
struct CommandTimeout: Error, CustomStringConvertible {
    let seconds: Double

    var description: String {
        "the relay did not answer within \(seconds.formatted()) s"
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
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
