import ArgumentParser
import CipherClient
import Foundation

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "The full-screen terminal chat.",
        discussion: """
            Messages appear live while you type. Commands: /msg USER TEXT, /query USER, /who, \
            /verify USER NUMBER, /trust USER, /help, /quit. A line without a slash goes to the \
            current conversation. When standard output is not a terminal, events are printed as \
            plain lines and commands are read line by line from standard input.
            """
    )

    @OptionGroup var options: ClientOptions

    @Option(help: "Open the conversation with this user.")
    var with: String?

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient()
            let backend = ChatClientBackend(client: client)
            try await client.start()
            try await runChat(backend: backend, initialConversation: with)
            await client.stop()
        }
    }
}

/// The client library as the chat interface sees it.
struct ChatClientBackend: ChatBackend {
    let client: ChatClient
    let events: AsyncStream<ChatEvent>
    private let sink: AsyncStream<ChatEvent>.Continuation

    init(client: ChatClient) {
        self.client = client
        let clientEvents = client.events
        let (stream, sink) = AsyncStream.makeStream(of: ChatEvent.self)
        events = stream
        self.sink = sink
        Task {
            for await event in clientEvents {
                switch event {
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

    /// Sends, then shows the sent message in the user's own pane.
    func send(to username: String, text: String) async throws {
        let record = try await client.send(text, to: username)
        sink.yield(.message(Self.message(record)))
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
        let sent = try await client.sendFile(at: path, to: username)
        return SentFile(name: sent.name, size: sent.size, id: sent.id)
    }

    func trust(_ username: String) async throws {
        guard try await client.trust(username) else { throw CommandFailure.failure("\(username) has no changed identity to accept") }
    }
}
