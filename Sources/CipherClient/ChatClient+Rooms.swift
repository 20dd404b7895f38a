import CipherCore
import CipherWire
import Foundation

/// Rooms (PROTOCOL.md 13): every membership change is a statement this client signs, sends to
/// the relay, and applies once the relay has recorded it; messages go out under this member's
/// sender chain, one copy per member fanned out by the relay.
extension ChatClient {
    /// Creates `room` with this user as its first admin.
    public func createRoom(_ room: String) async throws {
        guard RoomName.isValid(room) else { throw RoomError.invalidName(room) }
        guard try roomMembership(room) == nil else { throw RoomError.exists(room) }
        let statement = try RoomStatement.sign(
            room: room, epoch: 1, previousHash: RoomStatement.genesisPreviousHash, action: .create, author: username, identity: identity
        )
        do {
            try await submit(statement)
        } catch let error as RelayError where error.code == .membershipConflict {
            throw RoomError.exists(room)
        }
    }

    /// Adds `user` to `room` (admins only); they read what is said from now on.
    public func invite(_ user: String, to room: String) async throws {
        guard Username.isValid(user) else { throw ClientError.invalidUsername(user) }
        try await change(room, .invite(user))
    }

    /// Removes `user` from `room` (admins only); the remaining members change their keys.
    public func remove(_ user: String, from room: String) async throws {
        guard Username.isValid(user) else { throw ClientError.invalidUsername(user) }
        try await change(room, .remove(user))
    }

    /// Makes `user` an admin of `room` (admins only).
    public func grantAdmin(_ user: String, in room: String) async throws {
        guard Username.isValid(user) else { throw ClientError.invalidUsername(user) }
        try await change(room, .grantAdmin(user))
    }

    /// Leaves `room`; this client forgets its keys.
    public func leave(_ room: String) async throws {
        try await change(room, .leave)
    }

    /// The room's members as this client has checked them, after catching up with the relay
    /// when connected.
    public func members(of room: String) async throws -> RoomMembership {
        guard RoomName.isValid(room) else { throw RoomError.invalidName(room) }
        if link != nil { try? await syncRoom(room) }
        guard let membership = try roomMembership(room), membership.member(username) != nil else { throw RoomError.notMember(room) }
        return membership
    }

    /// The rooms this user is a member of, by name.
    public func rooms() throws -> [String] {
        try store.items("room").map(\.name)
    }

    /// Sends `text` to every member of `room`; returns once the relay has stored every copy.
    @discardableResult
    public func sendToRoom(_ room: String, text: String) async throws -> ChatRecord {
        guard text.utf8.count <= Payload.maxContentSize else { throw ClientError.messageTooLong(Payload.maxContentSize) }
        let payload = Payload.text(text, sentAtMilliseconds: Self.nowMilliseconds, random: random)
        var record = ChatRecord(
            id: Hex.encode(payload.messageID), from: username, to: room, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: payload.sentAtMilliseconds, kind: "text", text: text, verified: true
        )
        record.room = room
        try await sendToRoom(room, payload: payload, record: record)
        return record
    }

    /// Sends any payload (a file manifest, for instance) to every current member of `room`,
    /// encrypted under this member's sender chain; returns once the relay stored every copy.
    public func sendToRoom(_ room: String, payload: Payload) async throws {
        try await sendToRoom(room, payload: payload, record: nil)
    }

    private func sendToRoom(_ room: String, payload: Payload, record: ChatRecord?) async throws {
        guard RoomName.isValid(room) else { throw RoomError.invalidName(room) }
        // Catch up first: a removal not yet applied would leave the removed member able to
        // read this message under the old chain.
        try await syncRoom(room)
        // Under the room lock: a change being applied meanwhile may be replacing the chain.
        let entry = try await withRoomLock {
            guard let membership = try roomMembership(room), membership.member(username) != nil,
                  var chain = try ownSenderChain(room) else {
                throw RoomError.notMember(room)
            }
            let groupMessage = try chain.encrypt(payload)
            let entry = OutboxEntry(
                clientMessageID: random.bytes(16), recipient: room, envelope: groupMessage, createdAt: Int64(Self.nowMilliseconds)
            )
            var changes = StoreChanges()
            changes.put("room-chain", room, chain.serializedState())
            changes.outboxAdds.append(entry)
            if let record { changes.history.append((record.id, try record.jsonBytes())) }
            try store.commit(changes)
            return entry
        }
        try await deliver(entry)
    }

    // MARK: Changes

    enum RoomChangeRequest {
        case invite(String)
        case remove(String)
        case leave
        case grantAdmin(String)
    }

    /// Signs the change against the room as the relay has it and submits it, catching up and
    /// trying again when another change came first.
    private func change(_ room: String, _ request: RoomChangeRequest) async throws {
        guard RoomName.isValid(room) else { throw RoomError.invalidName(room) }
        for _ in 0..<3 {
            try await syncRoom(room)
            guard let membership = try roomMembership(room), let me = membership.member(username) else { throw RoomError.notMember(room) }
            let statement = try await makeStatement(for: request, in: membership, asAdmin: me.isAdmin)
            do {
                try await submit(statement)
                return
            } catch let error as RelayError where error.code == .membershipConflict {
                continue
            }
        }
        throw RoomError.busy(room)
    }

    private func makeStatement(for request: RoomChangeRequest, in membership: RoomMembership, asAdmin isAdmin: Bool) async throws -> RoomStatement {
        let room = membership.room
        let action: RoomStatement.Action
        var subject: String?
        var subjectFingerprint: Fingerprint?
        switch request {
        case .invite(let user):
            guard isAdmin else { throw RoomError.notAdmin(room) }
            guard membership.member(user) == nil else { throw RoomError.alreadyMember(user, room) }
            action = .invite
            subject = user
            subjectFingerprint = try await identityForRoom(user).fingerprint
        case .remove(let user):
            guard isAdmin else { throw RoomError.notAdmin(room) }
            guard let member = membership.member(user) else { throw RoomError.notAMember(user, room) }
            action = .remove
            subject = user
            subjectFingerprint = member.fingerprint
        case .grantAdmin(let user):
            guard isAdmin else { throw RoomError.notAdmin(room) }
            guard let member = membership.member(user) else { throw RoomError.notAMember(user, room) }
            action = .grantAdmin
            subject = user
            subjectFingerprint = member.fingerprint
        case .leave:
            action = .leave
        }
        return try RoomStatement.sign(
            room: room, epoch: membership.epoch + 1, previousHash: membership.headHash, action: action,
            author: username, identity: identity, subject: subject, subjectFingerprint: subjectFingerprint
        )
    }

    /// The identity to name in an invitation: the pinned one, or the one the relay's bundle
    /// presents, pinned now. A changed identity is refused until the user trusts it.
    private func identityForRoom(_ user: String) async throws -> PublicIdentity {
        if let known = try contact(user) {
            guard known.pendingIdentity == nil else {
                let presented = try known.pendingIdentity.flatMap(Hex.decode).map { try PublicIdentity(serialized: $0) }
                throw ClientError.identityChanged(
                    username: user, pinned: try pinnedIdentity(of: known).fingerprint.displayString,
                    presented: presented?.fingerprint.displayString ?? "?"
                )
            }
            return try pinnedIdentity(of: known)
        }
        return try await fetchBundle(user).identity
    }

    /// Sends a statement to the relay and, once recorded, applies it here.
    private func submit(_ statement: RoomStatement) async throws {
        var change = WireRoomChange()
        change.statement = statement.wire
        // Under the room lock from the request to the change applied: deliveries that follow
        // from it (a new member's key) wait until this client knows of it.
        let records = try await withRoomLock {
            let reply: WireServerFrame
            do {
                reply = try await requestOnCurrentLink(.roomChange(change))
            } catch let error as RelayError where error.code == .membershipConflict {
                throw error
            } catch let error as RelayError where error != .connectionClosed {
                throw ClientError.relay(error)
            }
            guard case .roomChangeAccepted = reply.body else { throw RelayError.unexpectedReply }
            return try await absorbHoldingLock([statement], room: statement.room)
        }
        for record in records {
            eventSink.yield(.message(record))
        }
    }

    /// Fetches the room's statements from the relay and applies those this client lacks.
    func syncRoom(_ room: String) async throws {
        var fetch = WireFetchRoom()
        fetch.room = room
        let reply: WireServerFrame
        do {
            reply = try await requestOnCurrentLink(.fetchRoom(fetch))
        } catch let error as RelayError where error.code == .notAMember || error.code == .unknownRoom {
            // The relay does not count this user in the room; what this client checked stays.
            return
        }
        guard case .roomState(let state) = reply.body, state.room == room else { throw RelayError.unexpectedReply }
        for record in try await absorb(wire: state.chain, room: room) {
            eventSink.yield(.message(record))
        }
    }

    // MARK: Stored state

    func roomMembership(_ room: String) throws -> RoomMembership? {
        try store.item("room", room).map { try JSONDecoder().decode(RoomMembership.self, from: Data($0)) }
    }

    func ownSenderChain(_ room: String) throws -> SenderChain? {
        try store.item("room-chain", room).map { try SenderChain(serializedState: $0) }
    }
}
