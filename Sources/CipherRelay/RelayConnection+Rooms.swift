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
        // What costs no signature check comes first: who claims to make the change, where it
        // claims to stand in the log, and whether its author is a member. A statement that
        // could not be appended is refused before any RSA operation.
        let claimed = change.statement
        guard claimed.author == author else {
            send(error: .membershipRefused, "a membership statement must be made by the account that sends it", requestID: requestID)
            return .keepOpen
        }
        guard RoomName.isValid(claimed.room) else {
            send(error: .membershipRefused, "the membership statement is malformed or its signature does not verify", requestID: requestID)
            return .keepOpen
        }
        let creates = claimed.action.rawValue == Int(RoomStatement.Action.create.rawValue)
        let members = creates ? [] : try await service.store.roomMembers(room: claimed.room)
        // Not even the log is read for a non-member (a room without members, whose log says
        // whether it exists, is the rare exception).
        if !members.isEmpty, !members.contains(author) {
            return refuse(author: author, because: .authorNotMember, requestID: requestID)
        }
        let log = try await service.store.roomStatements(room: claimed.room)
        guard log.count < RoomChain.maxStatements else {
            send(error: .roomLimit, "a room has at most \(RoomChain.maxStatements) membership changes", requestID: requestID, limit: "room_statements")
            return .keepOpen
        }
        if let refusal = precheck(claimed, creates: creates, members: members, log: log) {
            return refuse(author: author, because: refusal, requestID: requestID)
        }
        let statement: RoomStatement
        do {
            statement = try RoomStatement(wire: claimed)
        } catch {
            send(error: .membershipRefused, "the membership statement is malformed or its signature does not verify", requestID: requestID)
            return .keepOpen
        }
        // The account's identity is looked up, not kept per connection (see `handle`).
        guard let account = try await service.store.account(named: author),
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
        let before: RoomMembership?
        if log.isEmpty {
            before = nil
        } else {
            guard let current = try checkedMembership(of: statement.room, log: log, requestID: requestID) else { return .keepOpen }
            before = current
        }
        let after: RoomMembership
        do {
            if let before {
                after = try before.applying(statement)
            } else {
                after = try RoomMembership(creation: statement)
            }
        } catch {
            return refuse(author: author, because: error, requestID: requestID)
        }
        switch try await service.store.appendRoomStatement(
            room: statement.room, epoch: statement.epoch, statement: statement.serialized, members: after.usernames
        ) {
        case .conflict:
            send(error: .membershipConflict, "the room changed meanwhile; fetch it and try again", requestID: requestID)
            return .keepOpen
        case .appended:
            service.roomMemberships.keep(.init(membership: after, statementCount: log.count + 1), for: statement.room)
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
                envelope.encodedBytes, room: statement.room, recipient: recipient, clientMessageID: RoomDeliveryID.statement(hash: statement.hash)
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

    /// Why `claimed` cannot be appended, from what the store holds and with no signature
    /// checked: it creates a room that exists or changes one that does not, its epoch is not
    /// the next one, or its author is not among the recorded `members`. Nil when it may be.
    private func precheck(_ claimed: WireRoomStatement, creates: Bool, members: [String], log: [[UInt8]]) -> RoomMembershipError? {
        if log.isEmpty { return creates ? nil : .notCreation }
        if creates { return .alreadyCreated }
        // Epochs run from 1 without a gap (13.2), so the next is the log's length plus one.
        let next = UInt64(log.count) + 1
        guard claimed.epoch >= next else { return .staleEpoch }
        guard claimed.epoch == next else { return .epochGap }
        guard members.contains(claimed.author) else { return .authorNotMember }
        return nil
    }

    /// The room's membership after `log`: what this relay checked before, brought up to date
    /// with the statements of `log` it has not checked, which cost this connection a message
    /// token per `roomStatementsPerMessageToken`. Nil, with the client told, when the
    /// connection lacks the tokens.
    private func checkedMembership(of room: String, log: [[UInt8]], requestID: UInt64) throws -> RoomMembership? {
        var checked = service.roomMemberships.checked(room)
        if let kept = checked {
            if kept.statementCount == log.count { return kept.membership }
            // Longer than the store's log: not the same log (a store replaced under the relay).
            if kept.statementCount > log.count { checked = nil }
        }
        let start = checked?.statementCount ?? 0
        let perToken = max(service.configuration.roomStatementsPerMessageToken, 1)
        guard takeMessageToken(requestID: requestID, count: (log.count - start + perToken - 1) / perToken) else { return nil }
        var membership = checked?.membership
        for bytes in log[start...] {
            let statement = try RoomStatement(serialized: bytes)
            if let current = membership {
                membership = try current.applying(statement)
            } else {
                membership = try RoomMembership(creation: statement)
            }
        }
        guard let membership else { return nil }
        service.roomMemberships.keep(.init(membership: membership, statementCount: log.count), for: room)
        return membership
    }

    private func refuse(author: String, because error: RoomMembershipError, requestID: UInt64) -> Disposition {
        switch error {
        case .staleEpoch, .epochGap, .forked, .alreadyCreated:
            send(error: .membershipConflict, "the room changed meanwhile; fetch it and try again", requestID: requestID)
        case .roomFull:
            send(error: .roomLimit, "a room has at most \(RoomMembership.maxMembers) members", requestID: requestID, limit: "room_members")
        case .notCreation:
            send(error: .unknownRoom, "no such room", requestID: requestID)
        default:
            service.securityLog.record(SecurityEvent(kind: .membershipRefused, address: address, username: author))
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
        // Queued under an id of the room's own namespace (RoomDeliveryID); the sender is
        // answered with the id it chose.
        let deliveryID = RoomDeliveryID.message(room: roomSend.room, sender: sender, clientMessageID: roomSend.clientMessageID)
        var tickets: [EnqueueTicket] = []
        tickets.reserveCapacity(members.count)
        for member in members where member != sender {
            if let ticket = try await enqueueRoomEnvelope(
                bytes, room: roomSend.room, recipient: member, clientMessageID: deliveryID
            ) {
                tickets.append(ticket)
            }
        }
        // As for a direct message: the acknowledgement waits for every copy's commit, off
        // this connection's path.
        let sink = self.sink
        let observer = service.observer
        let clientMessageID = roomSend.clientMessageID
        let completion = FanOutCompletion(copies: tickets.count) { failure in
            switch failure {
            case nil:
                var accepted = WireSendAccepted()
                accepted.clientMessageID = clientMessageID
                var reply = WireServerFrame()
                reply.requestID = requestID
                reply.sendAccepted = accepted
                sink.send(reply)
            case let error? where error is StoreUnavailableError:
                // Retryable, as for a message to one user: the member sends it again, and the
                // copies already stored are found duplicates.
                observer.storeError(.rooms, error)
                sink.send(.relayError(
                    .storeUnavailable, Self.storeUnavailableText(for: error), requestID: requestID,
                    retryAfterMilliseconds: Self.storeUnavailableRetryMilliseconds
                ))
            case let error?:
                observer.storeError(.rooms, error)
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
            quota: service.configuration.queueQuotas
        )
        switch ticket.result {
        case .stored(let envelope):
            await service.push(envelope)
            return ticket
        case .duplicate:
            return ticket
        case .quotaExceeded:
            // Recorded against the sender, as for a message to one user: the log says who hit
            // the limit, not whose queue was full.
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: username, detail: "queue_quota"))
            return nil
        case .senderQuotaExceeded:
            // The room's share of the member's queue is used up.
            let limit = RelayLimit.queueQuotaPerSender.rawValue
            service.securityLog.record(SecurityEvent(kind: .limitHit, address: address, username: username, detail: limit))
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
        // A token of the message rate, before the store is read: each fetch reads and sends the
        // room's whole chain, up to 1024 statements.
        guard takeMessageToken(requestID: requestID) else { return .keepOpen }
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
    private let state: Mutex<(remaining: Int, failure: (any Error)?)>
    /// Called once every copy is done: with nil when all were stored, else the first failure.
    private let finish: @Sendable ((any Error)?) -> Void

    init(copies: Int, finish: @escaping @Sendable ((any Error)?) -> Void) {
        state = Mutex((copies, nil))
        self.finish = finish
        if copies == 0 { finish(nil) }
    }

    func copyDone(_ outcome: Result<Void, any Error>) {
        let done: (failure: (any Error)?, last: Bool) = state.withLock { state in
            if case .failure(let error) = outcome, state.failure == nil { state.failure = error }
            state.remaining -= 1
            return (state.failure, state.remaining == 0)
        }
        if done.last { finish(done.failure) }
    }
}
