import Foundation

/// Everything that can wake the chat's loop, from whichever source; the loop handles them one at
/// a time, so the model and the screen need no locks.
enum ChatInput: Sendable {
    case keys([Key])
    /// A line read in plain mode.
    case line(String)
    /// Standard input ended (plain mode).
    case endOfInput
    case event(ChatEvent)
    case eventsEnded
    case reply(ChatModel.Reply)
    case resize
    /// SIGINT, SIGTERM, SIGHUP, or the terminal hung up: leave now.
    case terminate
}

/// Connects a `ChatBackend` to the loop: forwards its events, and carries out the model's
/// requests, each answer coming back as a `.reply`. Sends run one after another, in the order
/// typed, so that messages cannot overtake each other; the other requests run beside them, so
/// that `/who` answers while a send waits for an unreachable relay.
struct BackendBridge<Backend: ChatBackend>: Sendable {
    private let backend: Backend
    private let deliver: @Sendable (ChatInput) -> Void
    private let sends: AsyncStream<(to: String, text: String)>.Continuation
    private let tasks: [Task<Void, Never>]

    init(backend: Backend, deliver: @escaping @Sendable (ChatInput) -> Void) {
        self.backend = backend
        self.deliver = deliver
        let (sendStream, sends) = AsyncStream.makeStream(of: (to: String, text: String).self)
        self.sends = sends
        let events = Task {
            for await event in backend.events { deliver(.event(event)) }
            if !Task.isCancelled { deliver(.eventsEnded) }
        }
        let sender = Task {
            for await (user, text) in sendStream {
                deliver(.reply(await Self.perform(.send(to: user, text: text), on: backend)))
            }
        }
        tasks = [events, sender]
    }

    func perform(_ request: ChatModel.Request) {
        if case .send(let user, let text) = request {
            sends.yield((to: user, text: text))
        } else {
            Task { [backend, deliver] in deliver(.reply(await Self.perform(request, on: backend))) }
        }
    }

    func stop() {
        sends.finish()
        for task in tasks { task.cancel() }
    }

    /// Calls the backend; whatever it throws becomes a `.failed` reply, shown as an error line.
    static func perform(_ request: ChatModel.Request, on backend: Backend) async -> ChatModel.Reply {
        do {
            switch request {
            case .send(let user, let text):
                return .sent(try await backend.send(to: user, text: text))
            case .contacts:
                return .contacts(try await backend.contacts())
            case .verify(let user, let number):
                return .verification(user, matched: try await backend.verify(user, safetyNumber: number))
            case .trust(let user, let confirmation):
                try await backend.trust(user, confirming: confirmation)
                return .trusted(user)
            case .room(let roomRequest):
                return .room(roomRequest, lines: try await backend.room(roomRequest))
            case .sendFile(let user, let path):
                return .fileSent(to: user, try await backend.sendFile(to: user, path: path))
            case .join(let room):
                return .joined(room, lines: try await backend.room(.members(room)))
            case .getFile(let id, let path):
                return .fileSaved(try await backend.getFile(id: id, to: path))
            }
        } catch {
            return .failed(request, message: describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let localized = error as? any LocalizedError, let description = localized.errorDescription {
            return description
        }
        return String(describing: error)
    }
}
