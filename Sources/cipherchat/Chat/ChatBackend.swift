import Foundation

/// What the terminal chat interface needs from a logged-in client. `ChatClient` (CipherClient)
/// provides it; the interface knows nothing of the network or the cryptography.
protocol ChatBackend: Sendable {
    /// The user's own name.
    var username: String { get }
    /// Everything that happens, in order: messages in and out, connection changes, warnings.
    var events: AsyncStream<ChatEvent> { get }
    /// Encrypts and sends; returns once the relay has stored it durably, with the message as
    /// the user's own pane shows it.
    func send(to username: String, text: String) async throws -> ChatMessage
    /// Known contacts with their verification state, for `/who`.
    func contacts() async throws -> [ChatContact]
    /// Checks a safety number typed by the user; marks the contact verified when it matches.
    func verify(_ username: String, safetyNumber: String) async throws -> Bool
    /// Accepts a contact's changed identity.
    func trust(_ username: String, confirming confirmation: String) async throws
    /// Creates or changes a room, or lists its members; returns lines to show.
    func room(_ request: RoomRequest) async throws -> [String]
    /// Uploads the file at `path` for `username` and sends them its key; returns what was sent.
    func sendFile(to username: String, path: String) async throws -> SentFile
    /// Downloads the received file `id` to `path` (nil: its name, in the current directory).
    func getFile(id: String, to path: String?) async throws -> SavedFile
}

/// What the chat asks of a room.
enum RoomRequest: Equatable, Sendable {
    case create(String)
    case invite(String, room: String)
    case remove(String, room: String)
    case leave(String)
    case members(String)

    var room: String {
        switch self {
        case .create(let room), .leave(let room), .members(let room), .invite(_, let room), .remove(_, let room): room
        }
    }
}

struct RoomsUnsupported: Error, LocalizedError {
    var errorDescription: String? { "rooms are not available here" }
}

struct FilesUnsupported: Error, LocalizedError {
    var errorDescription: String? { "fetching files is not available here" }
}

extension ChatBackend {
    func room(_ request: RoomRequest) async throws -> [String] { throw RoomsUnsupported() }
    func getFile(id: String, to path: String?) async throws -> SavedFile { throw FilesUnsupported() }
}

/// A file the user sent, as the chat reports it.
struct SentFile: Sendable, Hashable {
    let name: String
    let size: UInt64
    let id: String
}

/// A received file saved to disk, its hash checked.
struct SavedFile: Sendable, Hashable {
    let name: String
    let size: UInt64
    let path: String
    let sha256: String
}

struct ChatContact: Sendable, Hashable {
    let username: String
    let shortFingerprint: String
    let verified: Bool
}

enum ChatEvent: Sendable, Hashable {
    /// A message received from `from`, or sent by the user (`from == username`) to `to`.
    case message(ChatMessage)
    case connection(ConnectionState)
    /// Something the user must see, e.g. a contact's identity changed and was refused.
    case warning(String)
    /// A room's membership changed, e.g. "alice added bob", shown in the room's pane.
    case membership(room: String, text: String)
    /// Something the user should know about the client, e.g. that it started offline.
    case info(String)
    /// What was said before the chat opened (messages, membership changes), oldest first: shown
    /// in the windows, but not as new.
    case history([ChatEvent])

    enum ConnectionState: Sendable, Hashable {
        case connecting
        case connected
        case disconnected(retryInSeconds: Double)
        /// Attached to the home's owner, which keeps the connection; its state not told yet.
        case throughOwner
    }
}

struct ChatMessage: Sendable, Hashable {
    let id: String
    let from: String
    let to: String
    let sentAt: Date
    let receivedAt: Date
    let text: String
    /// Whether the other party of the conversation is verified by safety number.
    let verified: Bool
}
