import CipherCore
import CipherWire
import Foundation
import Synchronization

/// Rooms on the relay (PROTOCOL.md 13.4 and 13.5): the relay checks each membership statement
/// as a client would, records it, and passes it on; it fans each room message out to the
/// members it has recorded, one queued envelope per member. It reads no message: a group
/// message is as opaque to it as a session envelope.
extension RelayConnection {
    func handleRoomChange(_ change: WireRoomChange, author: String, requestID: UInt64) async throws -> Disposition {
        guard takeMessageToken(requestID: requestID) else { return .keepOpen }
        let statement: RoomStatement
        do {
            statement = try RoomStatement(wire: change.statement)
        } catch {
            send(error: .membershipRefused, "the membership statement is malformed or its signature does not verify", requestID: requestID)
            return .keepOpen
        }
        // The account's identity is looked up, not kept per connection (see `handle`).
        guard statement.author == author, let account = try await service.store.account(named: author),
              let identity = try? PublicIdentity(serialized: account.identity), statement.authorIdentity == identity else {
            send(error: .membershipRefused, "a membership statement must be made by the account that sends it", requestID: requestID)
            return .keepOpen
        }
        if statement.action == .invite {
            guard let account = try await service.store.account(named: statement.subject),
                  let invited = try? PublicIdentity(serialized: account.identity),
                  invited.fingerprint == statement.subjectFingerprint else {
                send(error: .unknownUser, "no such user", requestID: requestID)
                return .keepOpen
            }
        }
        let log = try await service.store.roomStatements(room: statement.room)
        guard log.count < RoomChain.maxStatements else {
            send(error: .roomLimit, "a room has at most \(RoomChain.maxStatements) membership changes", requestID: requestID, limit: "room_statements")
            return .keepOpen
        }
        let before: RoomMembership?
        let after: RoomMembership
        do {
            if log.isEmpty {
                before = nil
                after = try RoomMembership(creation: statement)
            } else {
                var recorded: [RoomStatement] = []
                for bytes in log { recorded.append(try RoomStatement(serialized: bytes)) }
                let current = try RoomMembership(replaying: recorded)
                before = current
                after = try current.applying(statement)
            }
        } catch {
            return refuse(statement, because: error, requestID: requestID)
        }
        switch try await service.store.appendRoomStatement(
            room: statement.room, epoch: statement.epoch, statement: statement.serialized, members: after.usernames
        ) {
        case .conflict:
            send(error: .membershipConflict, "the room changed meanwhile; fetch it and try again", requestID: requestID)
            return .keepOpen
        case .appended:
            break
        }
        // Everyone the change concerns hears of it: the members before and after (so a
        // removed member learns it was removed), except its author. A new member gets the
        // whole chain, to check it from the room's creation.
        let recipients = Set(before?.usernames ?? []).union(after.usernames).subtracting([author]).sorted()
        let full = try (log + [statement.serialized]).map { try WireRoomStatement(serializedBytes: $0) }
        var tickets: [EnqueueTicket] = []
        for recipient in recipients {
            var envelope = WireRoomEnvelope()
            envelope.room = statement.room
            envelope.sender = author
            var chain = WireRoomChain()
            chain.statements = statement.action == .invite && recipient == statement.subject ? full : [statement.wire]
            envelope.chain = chain
            if let ticket = try await enqueueRoomEnvelope(
                envelope.encodedBytes, room: statement.room, recipient: recipient, clientMessageID: Array(statement.hash.prefix(16))
            ) {
                tickets.append(ticket)
            }
        }
        for ticket in tickets { try await ticket.durable() }
        var accepted = WireRoomChangeAccepted()
        accepted.room = statement.room
        accepted.epoch = statement.epoch
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.roomChangeAccepted = accepted
        sink.send(frame)
        return .keepOpen
    }

    private func refuse(_ statement: RoomStatement, because error: RoomMembershipError, requestID: UInt64) -> Disposition {
        switch error {
        case .staleEpoch, .epochGap, .forked, .alreadyCreated:
            send(error: .membershipConflict, "the room changed meanwhile; fetch it and try again", requestID: requestID)
        case .roomFull:
            send(error: .roomLimit, "a room has at most \(RoomMembership.maxMembers) members", requestID: requestID, limit: "room_members")
        case .notCreation:
            send(error: .unknownRoom, "no such room", requestID: requestID)
        default:
            service.securityLog.record(SecurityEvent(kind: .membershipRefused, address: address, username: statement.author))
            send(error: .membershipRefused, "the membership change is not allowed: \(error)", requestID: requestID)
        }
        return .keepOpen
    }

    func handleRoomSend(_ roomSend: WireRoomSend, sender: String, requestID: UInt64) async throws -> Disposition {
        guard takeMessageToken(requestID: requestID) else { return .keepOpen }
        guard roomSend.clientMessageID.count == 16, !roomSend.groupMessage.isEmpty, RoomName.isValid(roomSend.room) else {
            send(error: .malformedFrame, "a room message needs a room, a 16-byte client message id and a group message", requestID: requestID)
            return .keepOpen
        }
        guard let members = try await members(of: roomSend.room, including: sender, requestID: requestID) else { return .keepOpen }
        // One token was taken above; a large room costs more, by the copies it makes.
        let perToken = max(service.configuration.roomRecipientsPerMessageToken, 1)
        let cost = (members.count - 1 + perToken - 1) / perToken
        guard cost <= 1 || takeMessageToken(requestID: requestID, count: cost - 1) else { return .keepOpen }
        var envelope = WireRoomEnvelope()
        envelope.room = roomSend.room
        envelope.sender = sender
        envelope.groupMessage = roomSend.groupMessage
        let bytes = envelope.encodedBytes
        var tickets: [EnqueueTicket] = []
        tickets.reserveCapacity(members.count)
        for member in members where member != sender {
            if let ticket = try await enqueueRoomEnvelope(
                bytes, room: roomSend.room, recipient: member, clientMessageID: Array(roomSend.clientMessageID)
            ) {
                tickets.append(ticket)
            }
        }
        // As for a direct message: the acknowledgement waits for every copy's commit, off
        // this connection's path.
        let sink = self.sink
        let clientMessageID = roomSend.clientMessageID
        let completion = FanOutCompletion(copies: tickets.count) { stored in
            if stored {
                var accepted = WireSendAccepted()
                accepted.clientMessageID = clientMessageID
                var reply = WireServerFrame()
                reply.requestID = requestID
                reply.sendAccepted = accepted
                sink.send(reply)
            } else {
                sink.send(.relayError(.internal, "the relay could not store the message", requestID: requestID))
            }
        }
        for ticket in tickets { ticket.whenDurable { completion.copyDone($0) } }
        return .keepOpen
    }

    /// Queues one member's copy (its sender is the room's name, PROTOCOL.md 13.5) and pushes it
    /// to the member's connections. A member whose queue is full misses this copy; the others
    /// still get theirs.
    private func enqueueRoomEnvelope(
        _ bytes: [UInt8], room: String, recipient: String, clientMessageID: [UInt8]
    ) async throws -> EnqueueTicket? {
        let ticket = try await service.store.enqueue(
            NewEnvelope(
                sender: room, recipient: recipient, clientMessageID: clientMessageID,
                acceptedAtMilliseconds: service.clock.wallMilliseconds, envelope: bytes
            ),
            quota: service.configuration.queueQuota
        )
        switch ticket.result {
        case .stored(let envelope):
            await service.push(envelope)
            return ticket
        case .duplicate:
            return ticket
        case .quotaExceeded:
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: recipient, detail: "queue_quota"))
            return nil
        }
    }

    /// The members the store records for `room`, or nil, with the client told why, when
    /// `username` is not among them (`CODE_UNKNOWN_ROOM` for a room with no members).
    private func members(of room: String, including username: String, requestID: UInt64) async throws -> [String]? {
        let members = try await service.store.roomMembers(room: room)
        guard members.contains(username) else {
            send(error: members.isEmpty ? .unknownRoom : .notAMember, "not a member of that room", requestID: requestID)
            return nil
        }
        return members
    }

    func handleFetchRoom(_ fetch: WireFetchRoom, username: String, requestID: UInt64) async throws -> Disposition {
        guard RoomName.isValid(fetch.room) else {
            send(error: .unknownRoom, "no such room", requestID: requestID)
            return .keepOpen
        }
        guard try await members(of: fetch.room, including: username, requestID: requestID) != nil else { return .keepOpen }
        var state = WireRoomState()
        state.room = fetch.room
        state.chain.statements = try await service.store.roomStatements(room: fetch.room).map { try WireRoomStatement(serializedBytes: $0) }
        var frame = WireServerFrame()
        frame.requestID = requestID
        frame.roomState = state
        sink.send(frame)
        return .keepOpen
    }
}

/// Calls `finish` once every copy of a fanned-out message is durable (true) or one failed
/// (false): the sender is answered once, after the last commit, with no task per message.
final class FanOutCompletion: Sendable {
    private let state: Mutex<(remaining: Int, failed: Bool)>
    private let finish: @Sendable (Bool) -> Void

    init(copies: Int, finish: @escaping @Sendable (Bool) -> Void) {
        state = Mutex((copies, false))
        self.finish = finish
        if copies == 0 { finish(true) }
    }

    func copyDone(_ outcome: Result<Void, any Error>) {
        let stored: Bool? = state.withLock { state in
            if case .failure = outcome { state.failed = true }
            state.remaining -= 1
            return state.remaining == 0 ? !state.failed : nil
        }
        if let stored { finish(stored) }
    }
}
