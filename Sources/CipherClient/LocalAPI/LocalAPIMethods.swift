import CipherCore
import Foundation

/// The local API's methods (docs/API.md): each takes the request's `params` object and answers
/// with a result object, carried out on the owner's one `ChatClient`, the home's only writer.
/// The CLI calls the same methods in-process when it owns the home itself, so the CLI and the
/// API cannot drift.
public struct LocalAPIMethods: Sendable {
    /// Changes when a method or field changes meaning; fields may be added within a version.
    public static let apiVersion = 1

    let client: ChatClient
    let events: LocalAPIEvents?
    /// Told of every message sent through these methods: the chat shows a message a script sent.
    let onSent: @Sendable (ChatRecord) -> Void

    public init(client: ChatClient, events: LocalAPIEvents? = nil, onSent: @escaping @Sendable (ChatRecord) -> Void = { _ in }) {
        self.client = client
        self.events = events
        self.onSent = onSent
    }

    /// Carries out `method`; `subscribe` and `unsubscribe` are the connection's own business.
    public func call(_ method: String, _ params: [String: Any]) async throws -> Any {
        switch method {
        case "version":
            return ["api": Self.apiVersion, "cipherchat": ProductVersion.current]
        case "whoami":
            return ["username": client.username, "fingerprint": client.fingerprint.displayString, "server": client.endpoint.description]
        case "send":
            return try await send(params)
        case "contacts":
            return try await client.contacts().map { contact in
                ["username": contact.username, "fingerprint": contact.fingerprint.displayString,
                 "verified": contact.verified, "identity_changed": contact.identityChanged] as [String: Any]
            }
        case "fingerprint":
            return try await fingerprint(params)
        case "verify":
            let matched = try await client.verify(try username(params, "user"), safetyNumber: try string(params, "number"))
            return ["verified": matched]
        case "trust":
            let outcome = try await client.trust(try username(params, "user"), confirming: try string(params, "confirm"))
            let name = switch outcome {
            case .accepted: "accepted"
            case .noChange: "no_change"
            case .mismatch: "mismatch"
            }
            return ["outcome": name]
        case "history":
            return try await history(params)
        case "recv":
            return try await recv(params)
        case "rooms":
            return try await client.rooms()
        case "room.create":
            try await client.createRoom(try string(params, "room"))
            return ["ok": true]
        case "room.invite":
            try await client.invite(try username(params, "user"), to: try string(params, "room"))
            return ["ok": true]
        case "room.remove":
            try await client.remove(try username(params, "user"), from: try string(params, "room"))
            return ["ok": true]
        case "room.admin":
            try await client.grantAdmin(try username(params, "user"), in: try string(params, "room"))
            return ["ok": true]
        case "room.leave":
            try await client.leave(try string(params, "room"))
            return ["ok": true]
        case "room.members":
            let membership = try await client.members(of: try string(params, "room"))
            return ["room": membership.room, "epoch": membership.epoch,
                    "members": membership.members.map { ["username": $0.username, "admin": $0.isAdmin] as [String: Any] }]
        case "file.send":
            let recipient = try string(params, "recipient")
            let path = try string(params, "path")
            let sent = recipient.first == "#" ? try await client.sendFile(at: path, toRoom: recipient) : try await client.sendFile(at: path, to: recipient)
            return sent.jsonObject
        case "file.list":
            return try await client.receivedFiles().map(\.jsonObject)
        case "file.get":
            let id = try string(params, "id")
            var output = params["out"] == nil ? nil : try string(params, "out")
            // The default name in the caller's directory, not the owner's.
            if output == nil, params["dir"] != nil {
                let directory = try string(params, "dir")
                output = (directory as NSString).appendingPathComponent(ReceivedFileName.safe(try await client.receivedFile(id).name))
            }
            return try await client.downloadFile(id: id, to: output).jsonObject
        default:
            throw LocalAPIError.unknownMethod(method)
        }
    }

    private func send(_ params: [String: Any]) async throws -> Any {
        let recipient = try string(params, "recipient")
        let message = try string(params, "message")
        guard !message.isEmpty else { throw LocalAPIError.invalidParams("nothing to send") }
        guard recipient != client.username else { throw LocalAPIError.invalidParams("a message to yourself is not sent") }
        let outboxBefore = try await client.outboxCount()
        let record: ChatRecord
        do {
            record = if recipient.first == "#" {
                try await client.sendToRoom(recipient, text: message)
            } else {
                try await client.send(message, to: recipient)
            }
        } catch {
            // Sealed into the outbox before the relay failed to confirm it: kept, and sent again
            // by this owner; told in the words and with the exit code of a send run alone.
            let kept = ((try? await client.outboxCount()) ?? 0) > outboxBefore
            throw UnconfirmedSend.apiError(error, keptInOutbox: kept) ?? error
        }
        await events?.publishSent(record)
        onSent(record)
        return record.jsonObject
    }

    private func fingerprint(_ params: [String: Any]) async throws -> Any {
        guard params["user"] != nil else {
            return ["username": client.username, "fingerprint": client.fingerprint.displayString]
        }
        let user = try username(params, "user")
        let (number, fingerprint) = try await client.safetyNumber(with: user)
        var result: [String: Any] = ["username": user, "fingerprint": fingerprint.displayString, "safety_number": number.description]
        if let (pendingNumber, pendingFingerprint) = try await client.pendingSafetyNumber(with: user) {
            result["pending"] = ["fingerprint": pendingFingerprint.displayString, "safety_number": pendingNumber.description]
        }
        return result
    }

    /// The most recent records, oldest first; with `with`, only that conversation's.
    private func history(_ params: [String: Any]) async throws -> Any {
        let limit = params["limit"] == nil ? 100 : try integer(params, "limit", in: 1...10_000)
        let conversation = params["with"] == nil ? nil : try string(params, "with")
        // Scans a bounded window of the whole history, newest first, for the conversation.
        let records = try await client.history(limit: conversation == nil ? limit : 10_000)
        let selected = records.filter { record in
            guard let conversation else { return true }
            if conversation.first == "#" { return record.room == conversation }
            return record.room == nil && (record.from == conversation || record.to == conversation)
        }
        return selected.suffix(limit).map(\.jsonObject)
    }

    /// What arrived since the last `recv` (ChatClient+RecvCursor.swift), oldest first; with
    /// `wait`, when nothing has, waits up to that many seconds for something to.
    private func recv(_ params: [String: Any]) async throws -> Any {
        let wait = params["wait"] == nil ? 0 : try seconds(params, "wait", in: 0...3_600)
        let limit = params["limit"] == nil ? 1_000 : try integer(params, "limit", in: 1...10_000)
        let deadline = ContinuousClock.now.advanced(by: .seconds(wait))
        while true {
            let published = await events?.messagesPublished ?? 0
            let records = try await client.takeUnprinted(limit: limit)
            let left = ContinuousClock.now.duration(to: deadline)
            if !records.isEmpty || left <= .zero { return ["messages": records.map(\.jsonObject)] }
            if let events {
                let (whole, attoseconds) = left.components
                await events.waitForMessage(after: published, seconds: Double(whole) + Double(attoseconds) / 1e18)
            } else {
                // In-process, nothing arrives while the method runs: the caller owns the home.
                return ["messages": [] as [Any]]
            }
        }
    }

    // MARK: Parameters

    private func seconds(_ params: [String: Any], _ name: String, in range: ClosedRange<Double>) throws -> Double {
        guard let given = params[name], !Self.isJSONBoolean(given), let value = (given as? NSNumber)?.doubleValue ?? (given as? Double),
              range.contains(value) else {
            throw LocalAPIError.invalidParams("'\(name)' must be a number of seconds in \(Int(range.lowerBound))...\(Int(range.upperBound))")
        }
        return value
    }

    private func string(_ params: [String: Any], _ name: String) throws -> String {
        guard let value = params[name] as? String else { throw LocalAPIError.invalidParams("'\(name)' must be a string") }
        return value
    }

    private func username(_ params: [String: Any], _ name: String) throws -> String {
        let value = try string(params, name)
        guard Username.isValid(value) else { throw LocalAPIError.invalidParams("'\(name)' is not a valid username") }
        return value
    }

    private func integer(_ params: [String: Any], _ name: String, in range: ClosedRange<Int>) throws -> Int {
        guard let given = params[name], !Self.isJSONBoolean(given), let value = given as? Int, range.contains(value) else {
            throw LocalAPIError.invalidParams("'\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// Whether `value` is JSON's `true` or `false`. Foundation on Linux lets `is Bool` succeed for
    /// any decoded number that is 0 or 1, so `"limit": 1` looked like a boolean; a decoded
    /// boolean is the one number whose Objective-C type is `c`.
    static func isJSONBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }
}

extension ReceivedFile {
    /// A file as `file list --json` prints it and the local API returns it.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["id": id, "from": from, "name": name, "size": size, "sha256": sha256]
        if let room { object["room"] = room }
        if let savedTo { object["saved_to"] = savedTo }
        return object
    }
}
