import CipherCore
import Foundation

/// Sending on a pairwise session picks a message key, so it is one transition with no suspension
/// point inside: the session's state is read, the payload encrypted, and the next state committed
/// with the envelope's outbox entry before anything else in this actor can run (PROTOCOL.md 12.6).
/// The one await, fetching a bundle for a contact without a session, comes before the state is
/// read, and whatever another task committed meanwhile is what the encryption starts from.
extension ChatClient {
    /// Encrypts `payload` for `recipient` and commits, in one transaction, the session's next
    /// state, the outbox entry carrying the envelope and the history record (`kind` and `text`
    /// as shown). A session is started from a fetched bundle when there is none.
    func sealForSending(
        _ payload: Payload, to recipient: String, kind: String, text: String
    ) async throws -> (entry: OutboxEntry, record: ChatRecord) {
        // Without a session there is one await, the fetch; with one there is none before the
        // state is read, so `sealNow` always finds one or the other.
        let bundle = try hasSessionToSendOn(recipient) ? nil : try await fetchCheckedBundle(recipient).bundle
        return try sealNow(payload, to: recipient, bundle: bundle, kind: kind, text: text)
    }

    /// The synchronous half of `sealForSending`.
    func sealNow(
        _ payload: Payload, to recipient: String, bundle: PrekeyBundle?, kind: String, text: String
    ) throws -> (entry: OutboxEntry, record: ChatRecord) {
        guard let sending = try sendingSession(to: recipient, bundle: bundle) else { throw ClientError.storeCorrupted }
        var session = sending.0
        let contact = sending.1
        let envelope = try session.encrypt(payload)
        let entry = OutboxEntry(
            clientMessageID: random.bytes(16), recipient: recipient, envelope: envelope, createdAt: Int64(Self.nowMilliseconds)
        )
        let history = ChatRecord(
            id: Hex.encode(payload.messageID), from: username, to: recipient, sentAtMilliseconds: payload.sentAtMilliseconds,
            receivedAtMilliseconds: payload.sentAtMilliseconds, kind: kind, text: text, verified: contact.verified
        )
        var changes = StoreChanges()
        changes.put("session", recipient, session.serializedState())
        changes.outboxAdds.append(entry)
        changes.history.append((history.id, try history.jsonBytes()))
        try logSent(payload, envelope: envelope, session: session, to: recipient, into: &changes)
        try store.commit(changes)
        return (entry, history)
    }

    /// The session to send on as the store holds it now: the current one when the contact's
    /// identity is settled, else one started from `bundle`; nil when that needs a bundle and
    /// none was given. The caller encrypts and commits before any suspension point.
    func sendingSession(to recipient: String, bundle: PrekeyBundle?) throws -> (Session, Contact)? {
        if try hasSessionToSendOn(recipient), let known = try contact(recipient), let state = try store.item("session", recipient) {
            try checkPolicy(known)
            return (try Session(serializedState: state), known)
        }
        guard let bundle else { return nil }
        // The fetch pinned the bundle's identity, or recorded it as a change and threw.
        guard let known = try contact(recipient), try pinnedIdentity(of: known).fingerprint == bundle.identity.fingerprint else {
            throw ClientError.storeCorrupted
        }
        try checkPolicy(known)
        let session = try Session.initiate(identity: identity, signedPrekey: try currentSignedPrekey(), bundle: bundle, random: random)
        return (session, known)
    }

    /// Whether a current session with `recipient` can be sent on: one exists and the contact's
    /// identity has not changed since.
    func hasSessionToSendOn(_ recipient: String) throws -> Bool {
        guard let known = try contact(recipient), known.pendingIdentity == nil else { return false }
        return try store.item("session", recipient) != nil
    }

    /// Bundles for those of `recipients` that have no session to send on yet, fetched before any
    /// session is read. A recipient whose fetch fails is left out, with a warning naming `purpose`.
    func bundlesForNewSessions(_ recipients: [String], purpose: String) async -> [String: PrekeyBundle] {
        var bundles: [String: PrekeyBundle] = [:]
        for recipient in recipients {
            if (try? hasSessionToSendOn(recipient)) != false { continue }  // an unreadable store is reported when sealing
            do {
                bundles[recipient] = try await fetchCheckedBundle(recipient).bundle
            } catch {
                eventSink.yield(.warning("could not send \(purpose) to \(recipient): \(error)"))
            }
        }
        return bundles
    }

    func checkPolicy(_ contact: Contact) throws {
        if contact.pendingIdentity != nil {
            let pinned = try pinnedIdentity(of: contact).fingerprint.displayString
            let presented = try contact.pendingIdentity.flatMap(Hex.decode).map { try PublicIdentity(serialized: $0) }
            throw ClientError.identityChanged(username: contact.username, pinned: pinned, presented: presented?.fingerprint.displayString ?? "?")
        }
        if try trustPolicy == .verifiedOnly, !contact.verified { throw ClientError.contactNotVerified(contact.username) }
    }
}
