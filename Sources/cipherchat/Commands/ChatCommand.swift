import ArgumentParser
import CipherClient
import Foundation

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "The full-screen terminal chat.",
        // The commands from the list /help shows, so the two never differ.
        discussion: "Messages appear live while you type. A line without a slash goes to the current conversation, "
            + "a user or a room. Each conversation has a window, listed in the status line; a message for a window "
            + "not in view marks it and rings the terminal's bell. Started while the relay is down, the chat opens "
            + "offline and connects when it can; what you type meanwhile shows as pending until the relay has it. "
            + "When standard output is not a terminal, events are printed as plain lines and commands "
            + "are read line by line from standard input.\n\nCommands:\n"
            + HelpText.columns(CommandParser.help)
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Open the conversation with this user.")
    var with: String?

    @Flag(help: "Start with the bell off: no terminal bell on a message for a window not in view (/set bell on turns it back on).")
    var noBell = false

    func run() async throws {
        try await runReportingFailures {
            // A daemon owns the home: the chat attaches to it instead of waiting for the home,
            // and needs no passphrase.
            let home = options.resolvedHome
            if let holder = HomeOwnership.currentHolder(home: home),
               let owner = try await ChatOwnerBackend.attach(home: home, owner: holder.description) {
                try await runChat(backend: owner, initialConversation: with, bell: !noBell)
                return
            }
            // A log line would tear the full-screen interface: none unless asked for.
            let client = try options.openClient(logLevel: .critical, command: "cipherchat chat")
            // The chat owns the home while it runs, so it serves the local API: `cipherchat
            // send` from another terminal goes through it and its message shows here.
            let apiEvents = LocalAPIEvents()
            let backend = ChatClientBackend(client: client, apiEvents: apiEvents)
            let server = try await options.serveLocalAPI(client, events: apiEvents, logLevel: .critical) { backend.showSent($0) }
            do {
                // A relay out of reach is no reason to refuse: the chat opens offline and
                // connects when it can, and what is typed meanwhile waits, shown as pending.
                if let unreachable = try await client.startAllowingOffline() {
                    backend.tell("\(unreachable.description); offline — reconnecting, and what you send waits until then")
                }
                try await runChat(backend: backend, initialConversation: with, bell: !noBell)
            } catch {
                await server.stop()
                throw error
            }
            await server.stop()
            await client.stop()
            await apiEvents.finish()
        }
    }
}

/// The client library as the chat interface sees it.
struct ChatClientBackend: ChatBackend {
    let client: ChatClient
    let events: AsyncStream<ChatEvent>
    private let sink: AsyncStream<ChatEvent>.Continuation

    private let apiEvents: LocalAPIEvents?

    init(client: ChatClient, apiEvents: LocalAPIEvents? = nil) {
        self.client = client
        self.apiEvents = apiEvents
        let clientEvents = client.events
        let (stream, sink) = AsyncStream.makeStream(of: ChatEvent.self)
        events = stream
        self.sink = sink
        Task {
            // The recent history first: a conversation opens with what was said before.
            // A message stored meanwhile may also come as an event: it is shown once.
            let shown = await Self.showRecentHistory(of: client, on: sink)
            for await event in clientEvents {
                await apiEvents?.publish(event)
                switch event {
                case .message(let record) where shown.contains(record.id):
                    break
                case .message(let record) where record.kind == "membership":
                    sink.yield(.membership(room: record.room ?? record.to, text: record.text))
                case .message(let record):
                    sink.yield(.message(Self.message(record)))
                case .warning(let text):
                    sink.yield(.warning(text))
                case .connected:
                    sink.yield(.connection(.connected))
                case .disconnected(let retry):
                    sink.yield(.connection(.disconnected(retryInSeconds: retry)))
                case .deliveryHandled:
                    break
                }
            }
            sink.finish()
        }
    }

    var username: String { client.username }

    /// How many of the latest messages the chat shows when it starts.
    static let recentHistoryCount = 200

    /// Shows the latest messages from the local store; returns their ids.
    private static func showRecentHistory(of client: ChatClient, on sink: AsyncStream<ChatEvent>.Continuation) async -> Set<String> {
        let records = (try? await client.history(limit: recentHistoryCount)) ?? []
        let events: [ChatEvent] = records.map { record in
            record.kind == "membership" ? .membership(room: record.room ?? record.to, text: record.text) : .message(message(record))
        }
        if !events.isEmpty { sink.yield(.history(events)) }
        return Set(records.map(\.id))
    }

    /// Sends; the chat shows the message returned in place of the line it showed as pending.
    func send(to username: String, text: String) async throws -> ChatMessage {
        let record: ChatRecord
        if username.first == "#" {
            record = try await client.sendToRoom(username, text: text)
        } else {
            record = try await client.send(text, to: username)
        }
        await apiEvents?.publishSent(record)
        return Self.message(record)
    }

    /// Shows a message the user sent through the local API, from another terminal, in their own pane.
    func showSent(_ record: ChatRecord) {
        sink.yield(.message(Self.message(record)))
    }

    /// A line for the user from the chat itself, in the order of the other events.
    func tell(_ text: String) {
        sink.yield(.info(text))
    }

    func room(_ request: RoomRequest) async throws -> [String] {
        switch request {
        case .create(let room):
            try await client.createRoom(room)
            return []
        case .invite(let user, let room):
            try await client.invite(user, to: room)
            return []
        case .remove(let user, let room):
            try await client.remove(user, from: room)
            return []
        case .leave(let room):
            try await client.leave(room)
            return ["you left \(room)"]
        case .members(let room):
            let members = try await client.members(of: room).members.map { RoomMember(username: $0.username, isAdmin: $0.isAdmin) }
            return [RoomMember.line(room: room, members)]
        }
    }

    private static func message(_ record: ChatRecord) -> ChatMessage {
        ChatMessage(
            id: record.id, from: record.from, to: record.to,
            sentAt: Date(timeIntervalSince1970: Double(record.sentAtMilliseconds) / 1000),
            receivedAt: Date(timeIntervalSince1970: Double(record.receivedAtMilliseconds) / 1000),
            text: record.text, verified: record.verified
        )
    }

    func contacts() async throws -> [ChatContact] {
        try await client.contacts().map { ChatContact(username: $0.username, shortFingerprint: $0.fingerprint.shortID, verified: $0.verified) }
    }

    func verify(_ username: String, safetyNumber: String) async throws -> Bool {
        try await client.verify(username, safetyNumber: safetyNumber)
    }

    func sendFile(to username: String, path: String) async throws -> SentFile {
        let sent = username.hasPrefix("#")
            ? try await client.sendFile(at: path, toRoom: username)
            : try await client.sendFile(at: path, to: username)
        return SentFile(name: sent.name, size: sent.size, id: sent.id)
    }

    func getFile(id: String, to path: String?) async throws -> SavedFile {
        // Paths as the user typed them, from where the chat was started, as `file get` takes them.
        let output = path.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).standardizedFileURL.path }
        let file = try await client.downloadFile(id: id, to: output)
        return SavedFile(name: file.name, size: file.size, path: file.savedTo ?? output ?? "?", sha256: file.sha256)
    }

    func trust(_ username: String, confirming confirmation: String) async throws {
        switch try await client.trust(username, confirming: confirmation) {
        case .accepted: return
        case .noChange: throw CommandFailure.failure("\(username) has no changed identity to accept")
        case .mismatch: throw CommandFailure.mismatch("not the safety number or fingerprint of \(username)'s new identity")
        }
    }
}
