import CipherCore
import CipherWire
import Foundation

/// Applying a room's statements (PROTOCOL.md 13.3 and 13.6): each is checked against the
/// membership this client already knows and the identities it has pinned; what they change is
/// then carried out: keys go to new members, every remaining member's chain is replaced when
/// someone leaves, and a member who left forgets the room.
extension ChatClient {
    /// Applies the statements of a chain from the relay, skipping (unverified) those this
    /// client has already applied.
    func absorb(wire chain: WireRoomChain, room: String) async throws -> [ChatRecord] {
        guard chain.statements.count <= RoomChain.maxStatements else { throw RoomMembershipError.malformed }
        let known = try roomMembership(room)?.epoch ?? 0
        var statements: [RoomStatement] = []
        for statement in chain.statements where statement.epoch > known || known == 0 {
            do {
                statements.append(try RoomStatement(wire: statement))
            } catch {
                eventSink.yield(.warning("refused a membership change in \(room): \(error)"))
                break
            }
        }
        return try await absorb(statements, room: room)
    }

    /// Applies checked statements in order, stopping at the first one refused (it is shown as
    /// a warning: nothing after it can follow), then carries out what they changed. Returns the
    /// changes as history records.
    func absorb(_ incoming: [RoomStatement], room: String) async throws -> [ChatRecord] {
        try await withRoomLock { try await absorbHoldingLock(incoming, room: room) }
    }

    func absorbHoldingLock(_ incoming: [RoomStatement], room: String) async throws -> [ChatRecord] {
        let before = try roomMembership(room)
        var current = before
        var applied: [RoomStatement] = []
        for statement in incoming {
            do {
                guard statement.room == room else { throw RoomMembershipError.wrongRoom }
                if let membership = current {
                    if statement.epoch < membership.epoch { continue }
                    if statement.epoch == membership.epoch {
                        guard statement.hash == membership.headHash else { throw RoomMembershipError.forked }
                        continue
                    }
                    try checkAgainstPinnedIdentities(statement)
                    current = try membership.applying(statement)
                } else {
                    // Not in the room: only a chain from its creation can be checked.
                    guard statement.epoch == 1 else { return [] }
                    try checkAgainstPinnedIdentities(statement)
                    current = try RoomMembership(creation: statement)
                }
                applied.append(statement)
            } catch let error as RoomMembershipError {
                eventSink.yield(.warning("refused a membership change in \(room) signed by \(statement.author): \(error)"))
                break
            } catch let error as ClientError {
                eventSink.yield(.warning("refused a membership change in \(room) signed by \(statement.author): \(error)"))
                break
            }
        }
        guard let final = current, !applied.isEmpty else { return [] }
        let wasMember = before?.member(username)?.fingerprint == fingerprint
        let isMember = final.member(username)?.fingerprint == fingerprint
        guard wasMember || isMember else { return [] }

        // A new member sees the change that let it in and what follows, not the room's past.
        let joinedAt = wasMember ? 0 : applied.last { ($0.action == .invite || $0.action == .create) && $0.subject == username }?.epoch ?? 0
        let records = applied.filter { $0.epoch >= joinedAt }.map { Self.membershipRecord($0) }
        var changes = StoreChanges()
        for record in records { changes.history.append((record.id, try record.jsonBytes())) }

        guard isMember else {
            changes.delete("room", room)
            changes.delete("room-chain", room)
            for member in before?.members ?? [] { changes.delete("room-peer", peerChainsName(room, member.fingerprint)) }
            try dropHeldKeys(of: room, into: &changes)
            try store.commit(changes)
            return records
        }
        changes.put("room", room, Array(try JSONEncoder().encode(final)))
        try applyHeldKeys(of: room, membership: final, into: &changes)
        let departed = (before?.members ?? []).filter { old in final.member(withFingerprint: old.fingerprint) == nil }
        for member in departed { changes.delete("room-peer", peerChainsName(room, member.fingerprint)) }

        // A chain is made on joining and replaced whenever someone leaves; otherwise only the
        // new members need the current one.
        let others = final.members.filter { $0.username != username }
        var chain = try ownSenderChain(room)
        var recipients = others.filter { before?.member(withFingerprint: $0.fingerprint) == nil }
        if chain == nil || !wasMember || !departed.isEmpty {
            chain = try SenderChain.generate(room: room, owner: fingerprint, random: random)
            recipients = others
        }
        changes.put("room-chain", room, chain!.serializedState())
        // Fetched before any session is read: from here to the commit nothing suspends, so no
        // message sent meanwhile can encrypt from a session this distribution has advanced.
        let bundles = await bundlesForNewSessions(recipients.map(\.username), purpose: "the key for \(room)")
        let entries = distribute(chain!, to: recipients, bundles: bundles, into: &changes)
        try store.commit(changes)
        for entry in entries {
            do {
                try await deliver(entry)
            } catch {
                eventSink.yield(.warning("the key for \(room) did not reach \(entry.recipient): \(error)"))
            }
        }
        return records
    }

    /// Encrypts the chain's distribution to each member in its pairwise session, checking that
    /// the identity this client pinned for the member is the one the room's statements name:
    /// a key never goes to anyone else. Synchronous: each session is read, advanced and put into
    /// `changes`, which the caller commits before anything else runs.
    private func distribute(
        _ chain: SenderChain, to members: [RoomMember], bundles: [String: PrekeyBundle], into changes: inout StoreChanges
    ) -> [OutboxEntry] {
        var entries: [OutboxEntry] = []
        for member in members {
            do {
                guard var (session, contact) = try sendingSession(to: member.username, bundle: bundles[member.username]) else {
                    continue  // its bundle could not be fetched: warned about then
                }
                guard try pinnedIdentity(of: contact).fingerprint == member.fingerprint else {
                    eventSink.yield(.warning(
                        "not sending the key for \(chain.room) to \(member.username): their identity is not the one the room names"
                    ))
                    continue
                }
                let payload = Payload(
                    kind: .groupKeyDistribution, content: chain.distribution.serialized,
                    sentAtMilliseconds: Self.nowMilliseconds, random: random
                )
                let envelope = try session.encrypt(payload)
                changes.put("session", member.username, session.serializedState())
                entries.append(OutboxEntry(
                    clientMessageID: random.bytes(16), recipient: member.username, envelope: envelope, createdAt: Int64(Self.nowMilliseconds)
                ))
            } catch {
                eventSink.yield(.warning("could not send the key for \(chain.room) to \(member.username): \(error)"))
            }
        }
        changes.outboxAdds.append(contentsOf: entries)
        return entries
    }

    /// A statement naming a user this client has pinned must name the pinned identity, and one
    /// naming this user must name this user's own.
    private func checkAgainstPinnedIdentities(_ statement: RoomStatement) throws {
        for (name, key) in [(statement.author, statement.authorIdentity.fingerprint), (statement.subject, statement.subjectFingerprint)] {
            if name == username {
                guard key == fingerprint else { throw RoomMembershipError.authorKeyMismatch }
            } else if let known = try contact(name), try pinnedIdentity(of: known).fingerprint != key {
                throw RoomMembershipError.authorKeyMismatch
            }
        }
    }

    private static func membershipRecord(_ statement: RoomStatement) -> ChatRecord {
        let text: String = switch statement.action {
        case .create: "\(statement.author) created \(statement.room)"
        case .invite: "\(statement.author) added \(statement.subject)"
        case .remove: "\(statement.author) removed \(statement.subject)"
        case .leave: "\(statement.author) left"
        case .grantAdmin: "\(statement.author) made \(statement.subject) an admin"
        }
        var record = ChatRecord(
            id: Hex.encode(statement.hash.prefix(16)), from: statement.author, to: statement.room,
            sentAtMilliseconds: Self.nowMilliseconds, receivedAtMilliseconds: Self.nowMilliseconds,
            kind: "membership", text: text, verified: false
        )
        record.room = statement.room
        record.membership = MembershipChange(
            action: statement.action.name, by: statement.author, member: statement.subject, epoch: statement.epoch
        )
        return record
    }

    func peerChainsName(_ room: String, _ owner: Fingerprint) -> String { "\(room) \(Hex.encode(owner.bytes))" }
}

extension RoomStatement.Action {
    /// The name used in `recv --json` and the history.
    public var name: String {
        switch self {
        case .create: "create"
        case .invite: "invite"
        case .remove: "remove"
        case .leave: "leave"
        case .grantAdmin: "grant-admin"
        }
    }
}
