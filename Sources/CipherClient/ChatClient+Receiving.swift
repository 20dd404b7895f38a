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
    func handle(_ delivery: WireDelivery, on link: RelayLink) async {
        if await process(delivery) {
            if acknowledgementLink !== link { await acknowledgeStored() }
            acknowledgementLink = link
            pendingAcknowledgements.append(delivery.deliveryID)
            if pendingAcknowledgements.count == 1 {
                Task { await self.acknowledgeStored() }
            }
        }
        eventSink.yield(.deliveryHandled)
    }

    /// Syncs the store and acknowledges every delivery stored before.
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
        let sender = delivery.sender
        do {
            try store.forgetItemsIfChangedElsewhere()
            if let record = try decrypt(delivery) {
                eventSink.yield(.message(record))
            }
            return true
        } catch let error as ClientError where error != .storeCorrupted {
            eventSink.yield(.warning("\(error)"))
            return true
        } catch is DecryptionError, is HandshakeError, is IdentityError, is WireDecodingError {
            // One message to the user, whatever failed: a decryption failure is no oracle.
            eventSink.yield(.warning("a message from \(sender) could not be decrypted and was dropped"))
            return true
        } catch {
            eventSink.yield(.warning("a message from \(sender) could not be stored and will be delivered again: \(error)"))
            return false
        }
    }

    /// The message, or nil for a repeat. All state changes commit together.
    private func decrypt(_ delivery: WireDelivery) throws -> ChatRecord? {
        let sender = delivery.sender
        var changes = StoreChanges()
        var seen = try window("seen", sender)
        guard !seen.contains(Array(delivery.clientMessageID)) else { return nil }
        seen.insert(Array(delivery.clientMessageID))
        changes.put("seen", sender, seen.serialized())

        let envelope = try SessionEnvelope(serialized: delivery.envelope)
        var session: Session
        let payload: Payload
        var known = try contact(sender)
        switch envelope {
        case .prekey(let prekey):
            do {
                known = try checkIdentity(prekey.senderIdentity, of: sender)
            } catch let error as ClientError {
                var hold = StoreChanges()
                hold.put("held", String(delivery.deliveryID), try HeldDelivery(delivery).jsonBytes())
                try store.commit(hold)
                throw error
            }
            if let state = try store.item("session", sender), let existing = try? Session(serializedState: state),
               existing.baseKey == prekey.ephemeralKey {
                session = existing
                payload = try session.decrypt(envelope, random: random)
            } else {
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
            guard let known, known.pendingIdentity == nil, let state = try store.item("session", sender) else {
                throw DecryptionError.cannotDecrypt
            }
            session = try Session(serializedState: state)
            guard session.remoteFingerprint == (try pinnedIdentity(of: known).fingerprint) else { throw DecryptionError.cannotDecrypt }
            payload = try session.decrypt(envelope, random: random)
        }
        changes.put("session", sender, session.serializedState())

        var replay = try window("replay", sender)
        guard replay.insert(payload.messageID) else {
            try store.commit(changes, durable: false)
            return nil
        }
        changes.put("replay", sender, replay.serialized())
        let record = ChatRecord(
            id: Hex.encode(payload.messageID), from: sender, to: username, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: Self.nowMilliseconds, kind: payload.kind == .text ? "text" : "other",
            text: payload.kind == .text ? payload.text : "", verified: known?.verified ?? false
        )
        changes.history.append((record.id, try record.jsonBytes()))
        try store.commit(changes, durable: false)
        return record
    }

    private func window(_ kind: String, _ sender: String) throws -> ReplayWindow {
        try store.item(kind, sender).map { try ReplayWindow(serialized: $0) } ?? ReplayWindow()
    }

    /// The most recent messages, oldest first.
    public func history(limit: Int = 100) throws -> [ChatRecord] {
        try store.history(limit: limit).map(ChatRecord.fromJSON)
    }
}
