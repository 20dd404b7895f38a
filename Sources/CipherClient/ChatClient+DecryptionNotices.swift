import CipherCore
import CipherWire
import Foundation

/// Decryption-failure notices (PROTOCOL.md 7.3), as Signal's retry receipts: a client that
/// cannot decrypt a contact's message starts a new session with them and says, in it, which
/// envelopes failed; the contact sends those payloads again in that session. The notice is an
/// ordinary end-to-end message, so the relay can neither forge nor read it; it can only drop
/// it, as it can drop anything. Each side tells its user once.
extension ChatClient {
    static let decryptionFailuresKind = "decryption-failures"
    /// A receiver asks a contact again, while none of their messages decrypts, at most this
    /// often: a session that stays broken is not asked about at every message.
    static let noticeRepeatMilliseconds: UInt64 = 3_600_000
    /// A sender acts on at most one notice per contact this often, so a contact cannot make it
    /// send its log again and again.
    static let noticeHonourIntervalMilliseconds: UInt64 = 60_000

    // MARK: Receiving side

    /// After a pairwise delivery from `sender` failed to decrypt: records its digest and, when
    /// no notice is outstanding, asks the sender to send again. One warning per notice; the
    /// failures it covers are silent.
    func noteUndecryptable(_ delivery: WireDelivery) async {
        let sender = delivery.sender
        let now = Self.nowMilliseconds
        var failures: DecryptionFailures
        do {
            failures = try store.item(Self.decryptionFailuresKind, sender).map(DecryptionFailures.decode) ?? DecryptionFailures()
            failures.add(DecryptionFailureNotice.envelopeDigest(delivery.envelope))
            let recent = { (time: UInt64?) in time.map { now &- $0 < Self.noticeRepeatMilliseconds } ?? false }
            let asked = recent(failures.noticeSentAtMilliseconds)
            let failedLately = recent(failures.noticeFailedAtMilliseconds)
            if !asked, !failedLately { failures.noticeSentAtMilliseconds = now }
            var changes = StoreChanges()
            changes.put(Self.decryptionFailuresKind, sender, try failures.encoded())
            try store.commit(changes, durable: false)
            // Covered by the notice already sent: its warning was the one.
            if asked { return }
            if failedLately {
                eventSink.yield(.warning("a message from \(sender) could not be decrypted and was dropped"))
                return
            }
        } catch {
            eventSink.yield(.warning("a message from \(sender) could not be decrypted and was dropped"))
            return
        }
        do {
            let bundle = try await fetchCheckedBundle(sender).bundle
            let entry = try sealNotice(failures.notice, to: sender, bundle: bundle)
            sendInBackground([entry])
            eventSink.yield(.warning(
                "a message from \(sender) could not be decrypted; \(sender) was asked to send it again"
            ))
        } catch {
            // Not asked after all: the failures to come are each told, and asked about in an hour.
            failures.noticeSentAtMilliseconds = nil
            failures.noticeFailedAtMilliseconds = now
            var changes = StoreChanges()
            if let bytes = try? failures.encoded() { changes.put(Self.decryptionFailuresKind, sender, bytes) }
            try? store.commit(changes, durable: false)
            eventSink.yield(.warning(
                "a message from \(sender) could not be decrypted and was dropped; asking \(sender) to send it again failed: \(error)"
            ))
        }
    }

    /// Seals `notice` into a new session with `recipient`, started from `bundle` whatever
    /// session there is: the one there is may be the one that fails. The session it replaces
    /// is kept as the previous one (SessionSlot), for messages in flight in it. Not logged for
    /// sending again, and not in the history: a notice is never repeated.
    private func sealNotice(_ notice: DecryptionFailureNotice, to recipient: String, bundle: PrekeyBundle) throws -> OutboxEntry {
        // The fetch pinned the bundle's identity, or recorded a change and threw.
        guard let known = try contact(recipient), known.pendingIdentity == nil,
              try pinnedIdentity(of: known).fingerprint == bundle.identity.fingerprint else {
            throw ClientError.storeCorrupted
        }
        var session = try Session.initiate(identity: identity, signedPrekey: try currentSignedPrekey(), bundle: bundle, random: random)
        let payload = Payload(kind: .decryptionFailure, content: notice.encoded(), sentAtMilliseconds: Self.nowMilliseconds, random: random)
        let envelope = try session.encrypt(payload)
        let entry = OutboxEntry(clientMessageID: random.bytes(16), recipient: recipient, envelope: envelope, createdAt: Int64(Self.nowMilliseconds))
        var changes = StoreChanges()
        if let replaced = try store.item(SessionSlot.current.kind, recipient) { changes.put(SessionSlot.previous.kind, recipient, replaced) }
        changes.put(SessionSlot.current.kind, recipient, session.serializedState())
        changes.outboxAdds.append(entry)
        try store.commit(changes)
        return entry
    }

    // MARK: Sending side

    /// Acts on a notice from `sender`, already committed with the session it came in (now the
    /// current one): sends again, in that session, what the notice names and what followed it
    /// in the same session. Nothing when the digests are unknown or a notice was acted on
    /// lately. A notice never leads to a notice: nothing here can fail to decrypt.
    func honour(_ notice: DecryptionFailureNotice, from sender: String) {
        do {
            let now = Self.nowMilliseconds
            var log = try sentLog(for: sender)
            if log.lastNoticeHonouredAtMilliseconds != 0, now &- log.lastNoticeHonouredAtMilliseconds < Self.noticeHonourIntervalMilliseconds {
                logger.debug("decryption-failure notice ignored: one was acted on lately", metadata: ["contact": "\(sender)"])
                return
            }
            let wanted = log.entriesToResend(for: notice.envelopeDigests, now: now)
            guard !wanted.isEmpty, try hasSessionToSendOn(sender), let state = try store.item(SessionSlot.current.kind, sender) else { return }
            // Every payload is read before any slot is reused by the sends below.
            let payloads = try wanted.compactMap { entry in
                try store.item(Self.sentPayloadKind, Self.sentPayloadName(sender, slot: entry.slot)).map { try Payload(decoding: $0) }
            }
            var session = try Session(serializedState: state)
            var changes = StoreChanges()
            var entries: [OutboxEntry] = []
            for payload in payloads {
                let envelope = try session.encrypt(payload)
                try logSent(payload, envelope: envelope, baseKey: session.baseKey, to: sender, log: &log, into: &changes)
                entries.append(OutboxEntry(
                    clientMessageID: random.bytes(16), recipient: sender, envelope: envelope, createdAt: Int64(Self.nowMilliseconds)
                ))
            }
            log.lastNoticeHonouredAtMilliseconds = now
            changes.put(SessionSlot.current.kind, sender, session.serializedState())
            changes.put(Self.sentLogKind, sender, log.encoded())
            changes.outboxAdds += entries
            try store.commit(changes)
            sendInBackground(entries)
            let count = entries.count == 1 ? "1 message" : "\(entries.count) messages"
            eventSink.yield(.warning("\(sender) could not decrypt messages from you; \(count) sent again in a new session"))
        } catch {
            eventSink.yield(.warning("\(sender) could not decrypt messages from you, and sending them again failed: \(error)"))
        }
    }

    // MARK: Sending without holding up deliveries

    /// Sends outbox entries in a task of their own: a delivery being handled must not wait for
    /// the relay's answer, which a lost connection would hold up until the next one, and that
    /// one cannot come while the delivery is handled. `stop` waits for these tasks.
    func sendInBackground(_ entries: [OutboxEntry]) {
        guard !entries.isEmpty else { return }
        let id = UUID()
        // Runs on this actor, so it cannot start before it is registered.
        backgroundSends[id] = Task {
            for entry in entries {
                do {
                    try await self.deliver(entry)
                } catch is CancellationError {
                    break  // stopped: the outbox keeps it for the next connection
                } catch {
                    self.eventSink.yield(.warning("a message to \(entry.recipient) was not delivered: \(error)"))
                }
            }
            self.backgroundSends[id] = nil
        }
    }
}
