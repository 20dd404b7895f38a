import CipherCore
import CipherWire
import Foundation

/// Room deliveries (PROTOCOL.md 13.5): a delivery whose sender is a room's name holds a
/// `RoomEnvelope`, either a group message or membership statements. Sender keys arrive
/// separately, in pairwise messages, and are accepted only from members.
extension ChatClient {
    /// Whether the room delivery is settled and may be acknowledged.
    func processRoomDelivery(_ delivery: WireDelivery) async -> Bool {
        let room = delivery.sender
        do {
            let seenScope = "seen/\(room)"
            guard try !store.wasReceived(Array(delivery.clientMessageID), in: seenScope) else { return true }
            let envelope = try WireRoomEnvelope(boundedBytes: delivery.envelope, maxSize: RoomChain.maxSerializedSize)
            guard envelope.room == room else { throw DecryptionError.malformed }
            var changes = StoreChanges()
            changes.recordReceived(Array(delivery.clientMessageID), in: seenScope)
            switch envelope.body {
            case .groupMessage(let bytes):
                // Without a sync, as for a pairwise message: the acknowledgement waits for one.
                if let record = try decryptRoomMessage(bytes, room: room, changes: &changes) {
                    try store.commit(changes, durable: false)
                    eventSink.yield(.message(record))
                } else {
                    try store.commit(changes, durable: false)
                }
            case .chain(let chain):
                let records = try await absorb(wire: chain, room: room)
                try store.commit(changes)
                for record in records { eventSink.yield(.message(record)) }
            case nil:
                throw DecryptionError.malformed
            }
            return true
        } catch is DecryptionError, is WireDecodingError, is RoomMembershipError {
            eventSink.yield(.warning("a message in \(room) could not be decrypted and was dropped"))
            return true
        } catch let error as RoomError {
            eventSink.yield(.warning("\(error)"))
            return true
        } catch {
            eventSink.yield(.warning("a message in \(room) could not be stored and will be delivered again: \(error)"))
            return false
        }
    }

    /// Decrypts a group message under the sender's chain, if the sender is a member this client
    /// knows; nil for a repeat. The new chain state and replay window go into `changes`.
    private func decryptRoomMessage(_ bytes: Data, room: String, changes: inout StoreChanges) throws -> ChatRecord? {
        let message = try GroupMessage(serialized: bytes)
        guard message.room == room, let membership = try roomMembership(room), membership.member(username) != nil else {
            throw RoomError.notMember(room)
        }
        // A chain is used only while its owner is a member: a removed member's keys are gone.
        guard let member = membership.member(withFingerprint: message.sender) else { throw DecryptionError.cannotDecrypt }
        let name = peerChainsName(room, member.fingerprint)
        guard var chains = try store.item("room-peer", name).map(PeerChains.decode) else { throw DecryptionError.cannotDecrypt }
        let payload = try chains.decrypt(message)
        changes.put("room-peer", name, try chains.encoded())
        let replayScope = "room-replay/\(name)"
        guard try !store.wasReceived(payload.messageID, in: replayScope) else { return nil }
        // A decryption-failure notice is pairwise only (PROTOCOL.md 7.3): a room has no session
        // to start again, and a member must not make others resend to the whole room.
        guard payload.kind != .decryptionFailure else { throw DecryptionError.malformed }
        changes.recordReceived(payload.messageID, in: replayScope)
        let verified = try isVerified(member.username, fingerprint: member.fingerprint)
        if payload.kind == .fileOffer {
            // An offer for a file sent to the room: stored like one sent to this user alone.
            guard let record = try fileOfferRecord(payload, from: member.username, room: room, verified: verified, into: &changes) else {
                throw DecryptionError.malformed
            }
            return record
        }
        var record = ChatRecord(
            id: Hex.encode(payload.messageID), from: member.username, to: room, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: Self.nowMilliseconds, kind: payload.kind == .text ? "text" : "other",
            text: payload.kind == .text ? payload.text : "", verified: verified
        )
        record.room = room
        changes.history.append((record.id, try record.jsonBytes()))
        return record
    }

    /// Takes a sender key that arrived in the pairwise session with `sender`: only for a room
    /// this user is in, and only from a member whose key is the session's. A key that arrives
    /// before the statement that makes this user, or its sender, a member (a statement missed
    /// while this user's queue was full, or delivered later by another relay instance) is held,
    /// and applied when a statement admits them (`applyHeldKeys`): refused, it would never come
    /// again, and the sender would stay mute for this user for good. Returns a warning when
    /// the key is refused.
    func acceptDistribution(_ payload: Payload, from sender: String, fingerprint: Fingerprint, into changes: inout StoreChanges) throws -> String? {
        guard let distribution = try? SenderKeyDistribution(serialized: payload.content), RoomName.isValid(distribution.room) else {
            return "a malformed room key from \(sender) was dropped"
        }
        let room = distribution.room
        guard let membership = try roomMembership(room), membership.member(username) != nil,
              let member = membership.member(sender), member.fingerprint == fingerprint else {
            return try hold(HeldRoomKey(sender: sender, fingerprint: fingerprint, distribution: payload.content), room: room, into: &changes)
        }
        try accept(distribution, of: room, from: fingerprint, into: &changes)
        return nil
    }

    private func accept(_ distribution: SenderKeyDistribution, of room: String, from fingerprint: Fingerprint, into changes: inout StoreChanges) throws {
        let received = try ReceivedSenderChain(distribution, from: fingerprint)
        let name = peerChainsName(room, fingerprint)
        var chains = try store.item("room-peer", name).map(PeerChains.decode) ?? PeerChains()
        chains.add(received)
        changes.put("room-peer", name, try chains.encoded())
    }

    /// At most this many keys are held for one room: one per member a statement could still
    /// admit, and a bound on what a peer can make this client keep.
    static let maxHeldKeysPerRoom = 64

    /// Holds a key until a statement admits its sender; the newest from one sender replaces
    /// an older one. Refused (with a warning) beyond the bound.
    private func hold(_ key: HeldRoomKey, room: String, into changes: inout StoreChanges) throws -> String? {
        let name = peerChainsName(room, key.fingerprint)
        let held = try store.items("room-key-held").filter { $0.name.hasPrefix(room + " ") }
        guard held.contains(where: { $0.name == name }) || held.count < Self.maxHeldKeysPerRoom else {
            return "a key for \(room) from \(key.sender), who is not a member as far as this client knows, was refused: too many keys are waiting for that room"
        }
        changes.put("room-key-held", name, try key.encoded())
        return nil
    }

    /// Applies the held keys of `room` whose senders `membership` now admits (with the
    /// fingerprint the key came with), and drops them from the held ones.
    func applyHeldKeys(of room: String, membership: RoomMembership, into changes: inout StoreChanges) throws {
        guard membership.member(username)?.fingerprint == fingerprint else { return }
        for (name, value) in try store.items("room-key-held") where name.hasPrefix(room + " ") {
            guard let key = try? HeldRoomKey.decode(value),
                  let member = membership.member(key.sender), member.fingerprint == key.fingerprint else { continue }
            if let distribution = try? SenderKeyDistribution(serialized: key.distribution), distribution.room == room {
                try accept(distribution, of: room, from: key.fingerprint, into: &changes)
            }
            changes.delete("room-key-held", name)
        }
    }

    /// Drops every key held for `room` (this user left it).
    func dropHeldKeys(of room: String, into changes: inout StoreChanges) throws {
        for (name, _) in try store.items("room-key-held") where name.hasPrefix(room + " ") {
            changes.delete("room-key-held", name)
        }
    }
}

/// A room's sender key that arrived before the statement admitting its sender: who sent it, in
/// which session (the fingerprint), and the `SenderKeyDistribution` as it came.
struct HeldRoomKey {
    let sender: String
    let fingerprint: Fingerprint
    let distribution: [UInt8]

    private struct Stored: Codable {
        let sender: String
        let fingerprint: String
        let distribution: String
    }

    func encoded() throws -> [UInt8] {
        Array(try JSONEncoder().encode(Stored(sender: sender, fingerprint: Hex.encode(fingerprint.bytes), distribution: Hex.encode(distribution))))
    }

    static func decode(_ bytes: [UInt8]) throws -> HeldRoomKey {
        let stored = try JSONDecoder().decode(Stored.self, from: Data(bytes))
        guard let fingerprintBytes = Hex.decode(stored.fingerprint), let fingerprint = Fingerprint(bytes: fingerprintBytes),
              let distribution = Hex.decode(stored.distribution) else { throw ClientError.storeCorrupted }
        return HeldRoomKey(sender: stored.sender, fingerprint: fingerprint, distribution: distribution)
    }
}

/// The chains this client holds from one member of one room: the current one, and the one it
/// replaced, for messages still in flight when the member changed keys.
struct PeerChains: Codable {
    var current: String?
    var previous: String?

    mutating func add(_ chain: ReceivedSenderChain) {
        let state = Hex.encode(chain.serializedState())
        if let current, let held = try? Self.chain(current), held.chainID == chain.chainID { return }
        previous = current
        current = state
    }

    mutating func decrypt(_ message: GroupMessage) throws -> Payload {
        for slot in [\PeerChains.current, \PeerChains.previous] {
            guard let state = self[keyPath: slot], var chain = try? Self.chain(state), chain.chainID == message.chainID else { continue }
            let payload = try chain.decrypt(message)
            self[keyPath: slot] = Hex.encode(chain.serializedState())
            return payload
        }
        throw DecryptionError.cannotDecrypt
    }

    private static func chain(_ hex: String) throws -> ReceivedSenderChain {
        guard let bytes = Hex.decode(hex) else { throw DecryptionError.malformed }
        return try ReceivedSenderChain(serializedState: bytes)
    }

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> PeerChains { try JSONDecoder().decode(PeerChains.self, from: Data(bytes)) }
}
