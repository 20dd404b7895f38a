import CipherClient
import Foundation

/// The chat attached to the process that owns the home (`cipherchat daemon`), through its local
/// API (docs/API.md): the owner keeps the relay connection and the keys, and this process only
/// shows what it is told and asks it to send. Every call opens its own connection, since the
/// chat runs requests side by side and a connection answers one at a time; one more connection
/// stays subscribed for the owner's notifications.
struct ChatOwnerBackend: ChatBackend {
    let username: String
    let events: AsyncStream<ChatEvent>
    private let home: String

    /// How long a call may wait for the owner: a send waits for the relay through the owner's
    /// reconnects, so this only ends a wait on an owner that stopped answering.
    static let callTimeout: Double = 86_400
    /// How often the notification loop wakes while nothing comes; it ends when the owner
    /// closes the connection.
    static let notificationWait: TimeInterval = 60

    /// Attaches to the owner of `home`; nil when nothing serves its socket.
    static func attach(home: String, owner: String) async throws -> ChatOwnerBackend? {
        guard let calls = LocalAPIConnection.connect(home: home),
              let notifications = LocalAPIConnection.connect(home: home) else { return nil }
        let whoami = try await calls.call("whoami", timeout: 60) as? [String: Any]
        guard let username = whoami?["username"] as? String else {
            throw CommandFailure.failure("the home's owner did not say whose home it is")
        }
        let history = try await calls.call("history", ["limit": ChatClientBackend.recentHistoryCount], timeout: 60)
        _ = try await notifications.call("subscribe", timeout: 60)
        let (events, sink) = AsyncStream.makeStream(of: ChatEvent.self)
        sink.yield(.info("attached to \(owner), which owns this home and keeps the relay connection"))
        sink.yield(.connection(.throughOwner))
        let earlier = (history as? [[String: Any]] ?? []).compactMap(Self.event(fromMessage:))
        if !earlier.isEmpty { sink.yield(.history(earlier)) }
        Task {
            // Until the owner closes the connection (it stopped), or the process exits.
            while let notification = try? await Self.next(from: notifications) {
                if let (method, params) = notification, let event = Self.event(method: method, params: params) { sink.yield(event) }
            }
            sink.yield(.warning("the home's owner stopped; /quit and start the chat again"))
            sink.finish()
        }
        return ChatOwnerBackend(username: username, events: events, home: home)
    }

    /// The next notification, nil when none came for a while; throws once the owner is gone.
    private static func next(from connection: LocalAPIConnection) async throws -> (String, [String: Any])?? {
        let notification = try await connection.nextNotification(until: Date().addingTimeInterval(notificationWait))
        return .some(notification.map { ($0.method, $0.params) })
    }

    private init(username: String, events: AsyncStream<ChatEvent>, home: String) {
        self.username = username
        self.events = events
        self.home = home
    }

    private func call(_ method: String, _ params: [String: Any] = [:]) async throws -> Any {
        guard let connection = LocalAPIConnection.connect(home: home) else {
            throw CommandFailure.failure("the home's owner no longer answers on its socket")
        }
        return try await connection.call(method, params, timeout: Self.callTimeout)
    }

    func send(to username: String, text: String) async throws -> ChatMessage {
        let sent = try await call("send", ["recipient": username, "message": text])
        guard let object = sent as? [String: Any], let message = Self.message(object) else {
            throw CommandFailure.failure("the home's owner answered with a malformed message")
        }
        return message
    }

    func contacts() async throws -> [ChatContact] {
        let contacts = try await call("contacts") as? [[String: Any]] ?? []
        return contacts.compactMap { contact in
            guard let name = contact["username"] as? String, let fingerprint = contact["fingerprint"] as? String else { return nil }
            let short = String(fingerprint.filter { !$0.isWhitespace }.prefix(16))
            return ChatContact(username: name, shortFingerprint: short, verified: contact["verified"] as? Bool ?? false)
        }
    }

    func verify(_ username: String, safetyNumber: String) async throws -> Bool {
        let result = try await call("verify", ["user": username, "number": safetyNumber]) as? [String: Any]
        return result?["verified"] as? Bool ?? false
    }

    func trust(_ username: String, confirming confirmation: String) async throws {
        let result = try await call("trust", ["user": username, "confirm": confirmation]) as? [String: Any]
        switch result?["outcome"] as? String {
        case "accepted": return
        case "no_change": throw CommandFailure.failure("\(username) has no changed identity to accept")
        default: throw CommandFailure.mismatch("not the safety number or fingerprint of \(username)'s new identity")
        }
    }

    func room(_ request: RoomRequest) async throws -> [String] {
        switch request {
        case .create(let room):
            _ = try await call("room.create", ["room": room])
        case .invite(let user, let room):
            _ = try await call("room.invite", ["room": room, "user": user])
        case .remove(let user, let room):
            _ = try await call("room.remove", ["room": room, "user": user])
        case .leave(let room):
            _ = try await call("room.leave", ["room": room])
            return ["you left \(room)"]
        case .members(let room):
            let result = try await call("room.members", ["room": room]) as? [String: Any]
            let members = (result?["members"] as? [[String: Any]] ?? []).compactMap { member -> RoomMember? in
                (member["username"] as? String).map { RoomMember(username: $0, isAdmin: member["admin"] as? Bool ?? false) }
            }
            return [RoomMember.line(room: room, members)]
        }
        return []
    }

    func sendFile(to username: String, path: String) async throws -> SentFile {
        let absolute = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path
        let file = try FileSummary(json: try await call("file.send", ["recipient": username, "path": absolute]))
        return SentFile(name: file.name, size: file.size, id: file.id)
    }

    func getFile(id: String, to path: String?) async throws -> SavedFile {
        // Paths are this process's: the owner runs elsewhere.
        var params: [String: Any] = ["id": id, "dir": FileManager.default.currentDirectoryPath]
        params["out"] = path.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).standardizedFileURL.path }
        let file = try FileSummary(json: try await call("file.get", params))
        return SavedFile(name: file.name, size: file.size, path: file.savedTo ?? "?", sha256: file.sha256)
    }

    // MARK: From the API's objects

    private static func event(method: String, params: [String: Any]) -> ChatEvent? {
        switch method {
        case "receive", "sent": return event(fromMessage: params)
        case "warning": return (params["text"] as? String).map { .warning($0) }
        case "connection":
            if params["state"] as? String == "connected" { return .connection(.connected) }
            return .connection(.disconnected(retryInSeconds: params["retry_in_seconds"] as? Double ?? 0))
        default: return nil
        }
    }

    private static func event(fromMessage object: [String: Any]) -> ChatEvent? {
        if object["kind"] as? String == "membership", let text = object["text"] as? String {
            guard let room = object["room"] as? String ?? object["to"] as? String else { return nil }
            return .membership(room: room, text: text)
        }
        return message(object).map { .message($0) }
    }

    private static func message(_ object: [String: Any]) -> ChatMessage? {
        guard let id = object["id"] as? String, let from = object["from"] as? String, let to = object["to"] as? String,
              let text = object["text"] as? String else { return nil }
        let sent = (object["sent_at"] as? String).flatMap(date) ?? Date()
        let received = (object["received_at"] as? String).flatMap(date) ?? sent
        return ChatMessage(id: id, from: from, to: to, sentAt: sent, receivedAt: received, text: text, verified: object["verified"] as? Bool ?? false)
    }

    private static func date(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// A room member as the chat lists them.
struct RoomMember {
    let username: String
    let isAdmin: Bool

    /// `members of #team: alice (admin), bob`.
    static func line(room: String, _ members: [RoomMember]) -> String {
        "members of \(room): " + members.map { $0.isAdmin ? "\($0.username) (admin)" : $0.username }.joined(separator: ", ")
    }
}
