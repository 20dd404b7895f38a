import ArgumentParser
import CipherClient
import CipherCore
import CipherRelay
import Foundation

struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send a message to a user or a room; exit 0 once the relay has stored it durably.",
        discussion: """
            The message is the words after TO, or standard input when there are none or the \
            only one is '-'. When another process owns the home (a daemon, an open chat), the \
            message goes through it and appears there. Otherwise it is encrypted into the local \
            outbox first, and every command that connects sends what the outbox holds. Exit 9 \
            when the relay has not confirmed it within --timeout or cannot store it now: it stays \
            in the outbox. Exit 6 when TO's identity changed (see 'cipherchat trust') or the \
            trust policy refuses an unverified contact.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The recipient's username, or a room you are a member of, quoted: '#team' (the shell drops an unquoted #…).")
    var to: String

    @Argument(parsing: .remaining, help: "The message; several words are joined with spaces; none or '-' reads standard input.")
    var message: [String] = []

    @Option(help: "Give up after this many seconds without the relay's acknowledgement (exit 9).")
    var timeout: Double = 30

    /// Standard input is read up to one byte past the largest message, which is then refused.
    static let maxInputBytes = Payload.maxContentSize + 1

    func run() async throws {
        try await runReportingFailures {
            let text = try messageText()
            guard !text.isEmpty else { throw CommandFailure.usage("nothing to send") }
            guard timeout > 0, timeout <= 86_400 else { throw CommandFailure.usage("--timeout must be between 0 and 86400 seconds") }
            let recipient = to
            switch try options.access(command: "cipherchat send") {
            case .owner(let connection):
                // The owner answers once the relay stored the message, or the call times out.
                _ = try await HomeAccess.owner(connection).call("send", ["recipient": recipient, "message": text], timeout: timeout)
            case .own(let client):
                guard recipient != client.username else { throw CommandFailure.usage("a message to yourself is not sent") }
                do {
                    try await sendOwning(client, text: text)
                } catch where Self.namesNoUser(error) {
                    let contacts = (try? await client.contacts().map(\.username)) ?? []
                    let rooms = (try? await client.rooms()) ?? []
                    throw CommandFailure.failure(Suggestions.unknownRecipient(recipient, contacts: contacts, rooms: rooms))
                }
            }
        }
    }

    /// Sends as the home's owner. With a session to send on, the message is sealed into the
    /// outbox before anything goes to the relay: it is kept whatever the relay does, and resent
    /// by the next command that connects.
    private func sendOwning(_ client: ChatClient, text: String) async throws {
        let to = self.to
        let outboxBefore = try await client.outboxCount()
        let sealed = to.first == "#" ? false : try await client.sealIntoOutbox(text, to: to)
        do {
            try await withDeadline(seconds: timeout) {
                try await client.startWithDeadline(receiving: false)
                if sealed {
                    try await client.outboxSent()
                } else if to.first == "#" {
                    try await client.sendToRoom(to, text: text)
                } else {
                    try await client.send(text, to: to)
                }
                await client.close()
            }
        } catch {
            let outboxAfter = (try? await client.outboxCount()) ?? 0
            let kept = sealed || outboxAfter > outboxBefore
            throw CommandFailure.unconfirmed(error, keptInOutbox: kept) ?? error
        }
    }

    /// Whether the relay said the recipient has no account.
    private static func namesNoUser(_ error: any Error) -> Bool {
        switch error {
        case let relay as RelayError: relay.code == .unknownUser
        case ClientError.relay(let relay): relay.code == .unknownUser
        default: false
        }
    }

    private func messageText() throws -> String {
        guard message.isEmpty || message == ["-"] else { return message.joined(separator: " ") }
        guard isatty(STDIN_FILENO) == 0 else { throw CommandFailure.usage("nothing to send: give the message, or pipe it in") }
        let data = FileHandle.standardInput.readData(ofLength: Self.maxInputBytes)
        guard let text = String(data: data, encoding: .utf8) else { throw CommandFailure.usage("standard input is not UTF-8 text") }
        // One trailing newline is the line's end (`echo hi |`), not part of the message.
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
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
            member and epoch. A file offered is kind "file", with file_id (for 'file get'), name \
            and size. Without --json, a sender's control characters and bidirectional \
            overrides are shown as U+FFFD and a message's later lines are indented. When standard \
            output closes (`recv --follow | head -n 1`), recv stops: what it received is in \
            `cipherchat history`, the rest stays queued. With a daemon or a chat running, recv \
            goes through it and prints what it received since the last recv, once.
            """
    )

    @OptionGroup var options: ClientOptions

    @Flag(help: "One JSON object a line.")
    var json = false

    @Option(help: """
        When nothing is queued, wait up to this many seconds for something to arrive. Without \
        --follow, recv also ends once the relay has sent nothing for \(Int(RecvProgress.quietSeconds)) s \
        (or this long, if longer), whatever it said was queued.
        """)
    var wait: Double = 0

    @Flag(help: "Keep printing messages as they arrive, until interrupted.")
    var follow = false

    func run() async throws {
        try await runReportingFailures {
            switch try options.access(command: "cipherchat recv") {
            case .owner(let connection): try await receiveThroughOwner(connection)
            case .own(let client): try await receiveAsOwner(client)
            }
        }
    }

    /// Another process owns the home and has taken the deliveries: prints what it received since
    /// the last `recv` (docs/API.md, method `recv`), waiting as asked; with --follow, asks again
    /// and again, each time waiting for what comes next.
    private func receiveThroughOwner(_ connection: LocalAPIConnection) async throws {
        let pageSize = 1_000
        var waitNow = follow ? 30 : min(max(0, wait), 3_600)
        while true {
            let result = try await connection.call("recv", ["wait": waitNow, "limit": pageSize], timeout: waitNow + 30)
            let messages = (result as? [String: Any])?["messages"] as? [[String: Any]] ?? []
            for object in messages {
                if json { print(JSONLine.encode(object)) } else { printSafely(HistoryLine.text(object)) }
                guard fflush(nil) == 0 else {
                    printError("standard output is closed: stopping. Messages received are in `cipherchat history`")
                    return
                }
            }
            // A full page means more may be waiting; otherwise recv is done unless it follows.
            if messages.count < pageSize && !follow { return }
            waitNow = follow ? 30 : 0
        }
    }

    private func receiveAsOwner(_ client: ChatClient) async throws {
        let events = client.events
        // While it owns the home, recv serves the local API: a `send` from another
        // terminal during `recv --follow` goes through it.
        let apiEvents = LocalAPIEvents()
        let server = try await options.serveLocalAPI(client, events: apiEvents)
        try await client.startWithDeadline()
        let progress = RecvProgress(wait: max(0, wait))
        let watchdog = follow ? nil : Task {
            // Every wait has an end: the relay's count of queued envelopes is its word, and
            // a relay that sends fewer (or stalls) must not hold recv open.
            while await !progress.timedOut() {
                try await Task.sleep(for: .milliseconds(100))
            }
            if let shortfall = await progress.shortfall {
                printError("the relay said \(shortfall.announced) were queued and sent \(shortfall.handled); the rest stay queued for the next recv")
            }
            await client.stop()
        }
        defer { watchdog?.cancel() }
        receiving: for await event in events {
            await apiEvents.publish(event)
            switch event {
            case .connected(let queued):
                await progress.expect(queued)
                if queued == 0, wait == 0, !follow { await client.stop() }
            case .message(let record):
                if json { print(MessageFormat.json(record)) } else { printSafely(MessageFormat.line(record)) }
                // A reader that went away (`recv --follow | head -n 1`): stop handling
                // deliveries at once, rather than take in messages nobody will see. Where
                // SIGPIPE is not ignored, it has already ended the process, to the same end.
                guard fflush(nil) == 0 else {
                    printError("standard output is closed: stopping. Messages received are in `cipherchat history`; the rest stay queued for the next recv")
                    await client.stop()
                    break receiving
                }
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
        // What this recv printed is not printed again by a later one through an owner.
        try? await client.markAllPrinted()
        await server.stop()
    }
}

/// What `recv` has handled against what was queued when it logged in, and when it must stop
/// waiting for the rest.
actor RecvProgress {
    /// Without --follow, recv ends after this long with nothing from the relay. Long beside
    /// the relay's pause between batches of deliveries (12.5); short beside a person's patience.
    static let quietSeconds = 10.0

    private(set) var handled = 0
    private var expected: Int?
    private let wait: Double
    private var lastActivity = ContinuousClock.now

    init(wait: Double) {
        self.wait = wait
    }

    func expect(_ queued: Int) {
        if expected == nil { expected = queued }
        lastActivity = .now
    }

    /// Counts one handled delivery; true when that completes the queue.
    func handledOne() -> Bool {
        handled += 1
        lastActivity = .now
        return handled >= max(expected ?? 1, 1)
    }

    /// Whether recv has waited long enough: `--wait` for a first arrival when nothing was
    /// queued, otherwise the longer of `--wait` and `quietSeconds` since the last delivery.
    func timedOut() -> Bool {
        // Before the login's count is seen, as after it: the longer bound.
        let nothingQueued = handled == 0 && expected == 0
        let limit = nothingQueued ? wait : max(wait, Self.quietSeconds)
        return ContinuousClock.now - lastActivity >= .milliseconds(Int(limit * 1000))
    }

    /// What the relay announced and what came, when fewer came.
    var shortfall: (announced: Int, handled: Int)? {
        guard let expected, handled < expected else { return nil }
        return (expected, handled)
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
        JSONLine.encode(record.jsonObject)
    }
}
