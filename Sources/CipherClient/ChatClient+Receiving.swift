import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    /// Handles one delivery: decrypts it in the sender's session (starting one from a prekey
    /// message), drops repeats, stores the message and then acknowledges it to the relay.
    func handle(_ delivery: WireDelivery, on link: RelayLink) async {
        // Acknowledged only once the outcome is stored: a message the store failed to keep is
        // left with the relay, which delivers it again at the next login.
        if await process(delivery) {
            var acknowledge = WireAcknowledge()
            acknowledge.deliveryIds = [delivery.deliveryID]
            try? await link.post(.acknowledge(acknowledge))
        }
        eventSink.yield(.deliveryHandled)
    }

    /// Whether the delivery is settled (shown, dropped as a repeat, refused, or held) and may
    /// be acknowledged.
    @discardableResult
    func process(_ delivery: WireDelivery) async -> Bool {
        let sender = delivery.sender
        do {
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
            try store.commit(changes)
            return nil
        }
        changes.put("replay", sender, replay.serialized())
        if payload.kind == .fileOffer {
            return try receiveFileOffer(payload, from: sender, verified: known?.verified ?? false, changes: changes)
        }
        let record = ChatRecord(
            id: Hex.encode(payload.messageID), from: sender, to: username, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: Self.nowMilliseconds, kind: payload.kind == .text ? "text" : "other",
            text: payload.kind == .text ? payload.text : "", verified: known?.verified ?? false
        )
        changes.history.append((record.id, try record.jsonBytes()))
        try store.commit(changes)
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
