import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    /// Handles one delivery: decrypts it in the sender's session (starting one from a prekey
    /// message), drops repeats, stores the message and then acknowledges it to the relay.
    ///
    /// The message is stored without a disk sync and shown at once; its acknowledgement waits
    /// for a sync, which one task makes for every delivery handled meanwhile. So a burst of
    /// deliveries costs one sync, not one each, and none leaves the relay before it is on this
    /// disk: a message the store failed to keep is delivered again at the next login.
    ///
    /// The task waits `acknowledgementDelay` first. A reply sent at once (by a program, or a
    /// reply already typed) then makes its durable commit without queueing behind this sync,
    /// and that commit syncs the received message too, so the acknowledgement needs no sync
    /// of its own: one sync on the path of a reply instead of two.
    func handle(_ delivery: WireDelivery, on link: RelayLink) async {
        if await process(delivery) {
            if acknowledgementLink !== link { await acknowledgeStored() }
            acknowledgementLink = link
            pendingAcknowledgements.append(delivery.deliveryID)
            if pendingAcknowledgements.count == 1 {
                acknowledgementInFlight = Task {
                    try? await Task.sleep(for: Self.acknowledgementDelay)
                    await self.acknowledgeStored()
                }
            }
        }
        eventSink.yield(.deliveryHandled)
    }

    /// How long an acknowledgement waits for a durable commit that makes its sync unneeded.
    /// Short beside the relay's patience and a person's typing; long beside one sync.
    static let acknowledgementDelay = Duration.milliseconds(5)

    /// Syncs the store, unless a durable commit already did, and acknowledges every delivery
    /// stored before.
    func acknowledgeStored() async {
        guard !pendingAcknowledgements.isEmpty, let link = acknowledgementLink else { return }
        let ids = pendingAcknowledgements
        pendingAcknowledgements = []
        do {
            try store.syncToDisk()
        } catch {
            eventSink.yield(.warning("received messages could not be saved to disk and will be delivered again: \(error)"))
            return
        }
        var acknowledge = WireAcknowledge()
        acknowledge.deliveryIds = ids
        try? await link.post(.acknowledge(acknowledge))
    }

    /// Whether the delivery is settled (shown, dropped as a repeat, refused, or held) and may
    /// be acknowledged.
    @discardableResult
    func process(_ delivery: WireDelivery) async -> Bool {
        guard Self.isValidSender(delivery.sender) else {
            // Only the relay names the sender, and no account or room can have this name: a
            // look-alike of a contact (`alice\u{200B}`, a Cyrillic `а`) would otherwise become a
            // new contact beside the real one. Acknowledged, as a message that does not decrypt
            // is: the relay would deliver it again at every login, and no real sender loses one.
            eventSink.yield(.warning(
                "refused a message from \(TerminalText.spelled(delivery.sender)): not a valid username or room name (PROTOCOL.md 12.2); dropped"
            ))
            return true
        }
        if delivery.sender.first == RoomName.prefix { return await processRoomDelivery(delivery) }
        // A pairwise message may carry a room key: it waits for a room change under way.
        await roomLock.acquire()
        defer { roomLock.release() }
        let sender = delivery.sender
        do {
            switch try decrypt(delivery) {
            case .shown(let record): eventSink.yield(.message(record))
            case .notice(let notice): honour(notice, from: sender)
            case .nothing: break
            }
            return true
        } catch let error as ClientError where error != .storeCorrupted {
            eventSink.yield(.warning("\(error)"))
            return true
        } catch is DroppedWithoutNotice {
            eventSink.yield(.warning("a message from \(sender) could not be decrypted and was dropped"))
            return true
        } catch is DecryptionError, is HandshakeError, is IdentityError, is WireDecodingError {
            // One message to the user, whatever failed: a decryption failure is no oracle. The
            // sender is asked to send it again (PROTOCOL.md 7.3), and that is the one warning.
            await noteUndecryptable(delivery)
            return true
        } catch {
            eventSink.yield(.warning("a message from \(sender) could not be stored and will be delivered again: \(error)"))
            return false
        }
    }

    /// A user's name (12.2) or a room's (13.1), exactly: the only senders a relay may name.
    static func isValidSender(_ name: String) -> Bool {
        name.first == RoomName.prefix ? RoomName.isValid(name) : Username.isValid(name)
    }

    /// What a pairwise delivery turned out to be.
    private enum Received {
        /// A message to show, stored.
        case shown(ChatRecord)
        /// The sender's notice that it could not decrypt messages of this client's, stored
        /// with the session it came in.
        case notice(DecryptionFailureNotice)
        /// A repeat, or something kept without being shown (a room key, a bad notice).
        case nothing
    }

    /// A message that cannot be decrypted and is not asked for again (PROTOCOL.md 7.3): an
    /// envelope that does not parse, a prekey envelope of a session this client holds (a replayed copy, or one whose key was
    /// evicted: asking would only restart a session that works), a handshake accepted before
    /// (a replay), or a ratchet message from a contact whose identity change waits for the user.
    private struct DroppedWithoutNotice: Error {}

    /// Decrypts, checks and stores one delivery. All state changes commit together.
    private func decrypt(_ delivery: WireDelivery) throws -> Received {
        let sender = delivery.sender
        var changes = StoreChanges()
        let seenScope = "seen/\(sender)"
        guard try !store.wasReceived(Array(delivery.clientMessageID), in: seenScope) else { return .nothing }
        changes.recordReceived(Array(delivery.clientMessageID), in: seenScope)

        let envelope: SessionEnvelope
        do {
            envelope = try SessionEnvelope(serialized: delivery.envelope)
        } catch {
            // No client makes bytes that do not parse: asking for them again would answer a
            // forgery with a new session.
            throw DroppedWithoutNotice()
        }
        var session: Session
        let payload: Payload
        var sessionSlot = SessionSlot.current
        var known = try contact(sender)
        switch envelope {
        case .prekey(let prekey):
            do {
                // A new contact is pinned with the rest of this commit: only if the message
                // decrypts, so a forged handshake pins nothing (PROTOCOL.md 12.6).
                known = try checkIdentity(prekey.senderIdentity, of: sender, pinningInto: &changes)
            } catch let error as ClientError {
                var hold = StoreChanges()
                hold.put("held", String(delivery.deliveryID), try HeldDelivery(delivery).jsonBytes())
                try store.commit(hold)
                throw error
            }
            let handshakeScope = "handshake/\(sender)"
            if let (slot, existing) = try storedSession(with: sender, baseKey: prekey.ephemeralKey) {
                session = existing
                sessionSlot = slot
                do {
                    payload = try session.decrypt(envelope, random: random)
                } catch {
                    throw DroppedWithoutNotice()
                }
            } else if try store.wasReceived(prekey.ephemeralKey, in: handshakeScope) {
                // A handshake accepted before, whose session has since been replaced: a replay.
                // Refused before it can become the current session, whether or not its payload
                // id is still in the window (PROTOCOL.md 5.3), and not asked for again: the
                // relay could otherwise restart sessions at will.
                throw DroppedWithoutNotice()
            } else {
                changes.recordReceived(prekey.ephemeralKey, in: handshakeScope)
                // The session this one replaces is kept: both sides may have started one at
                // once, and the other side may go on using the one it started.
                if let replaced = try store.item(SessionSlot.current.kind, sender) { changes.put(SessionSlot.previous.kind, sender, replaced) }
                guard let signed = try signedPrekey(id: prekey.recipientSignedPrekeyID),
                      let postQuantum = try postQuantumPrekey(id: prekey.recipientPostQuantumPrekeyID) else {
                    throw HandshakeError.prekeyMismatch
                }
                var oneTime: OneTimePrekeyPair?
                if let id = prekey.recipientOneTimePrekeyID {
                    guard let bytes = try store.item("one-time-prekey", String(id)) else { throw HandshakeError.prekeyMismatch }
                    oneTime = try OneTimePrekeyPair(id: id, privateKeyBytes: bytes)
                    // Used once: deleted with the rest of this commit.
                    changes.delete("one-time-prekey", String(id))
                }
                (session, payload) = try Session.accept(
                    prekey, identity: identity, signedPrekey: signed, postQuantumPrekey: postQuantum,
                    oneTimePrekey: oneTime, random: random
                )
            }
        case .ratchet:
            if known?.pendingIdentity != nil { throw DroppedWithoutNotice() }
            guard let known else { throw DecryptionError.cannotDecrypt }
            (sessionSlot, session, payload) = try decryptRatchet(envelope, from: sender, pinned: try pinnedIdentity(of: known).fingerprint)
        }
        changes.put(sessionSlot.kind, sender, session.serializedState())

        let replayScope = "replay/\(sender)"
        guard try !store.wasReceived(payload.messageID, in: replayScope) else {
            // A repeat changes nothing: a replayed handshake must not replace the session in
            // use, nor a replayed message advance a chain (PROTOCOL.md 5.3).
            return .nothing
        }
        changes.recordReceived(payload.messageID, in: replayScope)
        // The sender's messages decrypt again: a notice asked for may be asked for again.
        if try store.item(Self.decryptionFailuresKind, sender) != nil { changes.delete(Self.decryptionFailuresKind, sender) }
        if payload.kind == .groupKeyDistribution {
            // A room's sender key: kept with the rest of this commit, never shown as a message.
            let refusal = try acceptDistribution(payload, from: sender, fingerprint: session.remoteFingerprint, into: &changes)
            try store.commit(changes)
            if let refusal { eventSink.yield(.warning(refusal)) }
            return .nothing
        }
        if payload.kind == .decryptionFailure {
            // Kept with the session it came in, which becomes the one to send again in. A
            // notice that does not parse is dropped: a notice never leads to a notice.
            try store.commit(changes)
            guard let notice = try? DecryptionFailureNotice(decoding: payload.content) else { return .nothing }
            return .notice(notice)
        }
        if payload.kind == .fileOffer {
            return .shown(try receiveFileOffer(payload, from: sender, verified: known?.verified ?? false, changes: changes))
        }
        let record = ChatRecord(
            id: Hex.encode(payload.messageID), from: sender, to: username, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: Self.nowMilliseconds, kind: payload.kind == .text ? "text" : "other",
            text: payload.kind == .text ? payload.text : "", verified: known?.verified ?? false
        )
        changes.history.append((record.id, try record.jsonBytes()))
        try store.commit(changes, durable: false)
        return .shown(record)
    }

    /// The most recent messages, oldest first.
    public func history(limit: Int = 100) throws -> [ChatRecord] {
        try store.history(limit: limit).map(ChatRecord.fromJSON)
    }
}
