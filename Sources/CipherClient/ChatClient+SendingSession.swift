import CipherCore
import Foundation

/// Sending on a pairwise session picks a message key, so it is one transition with no suspension
/// point inside: the session's state is read, the payload encrypted, and the next state committed
/// with the envelope's outbox entry before anything else in this actor can run (PROTOCOL.md 12.6).
/// The one await, fetching a bundle for a contact without a session, comes before the state is
/// read, and whatever another task committed meanwhile is what the encryption starts from.
extension ChatClient {
    /// Encrypts `payload` for `recipient` and commits, in one transaction, the session's next
    /// state, the outbox entry carrying the envelope and the history record `record` makes from
    /// the contact. A session is started from a fetched bundle when there is none.
    func sealForSending(
        _ payload: Payload, to recipient: String, record: (Contact) throws -> ChatRecord
    ) async throws -> (entry: OutboxEntry, record: ChatRecord) {
        if let sealed = try sealNow(payload, to: recipient, bundle: nil, record: record) { return sealed }
        let bundle = try await fetchCheckedBundle(recipient).bundle
        guard let sealed = try sealNow(payload, to: recipient, bundle: bundle, record: record) else {
            throw ClientError.storeCorrupted
        }
        return sealed
    }

    /// The synchronous half of `sealForSending`: nil when a bundle is needed and none was given.
    private func sealNow(
        _ payload: Payload, to recipient: String, bundle: PrekeyBundle?, record: (Contact) throws -> ChatRecord
    ) throws -> (entry: OutboxEntry, record: ChatRecord)? {
        guard var (session, contact) = try sendingSession(to: recipient, bundle: bundle) else { return nil }
        let envelope = try session.encrypt(payload)
        let entry = OutboxEntry(
            clientMessageID: random.bytes(16), recipient: recipient, envelope: envelope, createdAt: Int64(Self.nowMilliseconds)
        )
        let history = try record(contact)
        var changes = StoreChanges()
        changes.put("session", recipient, session.serializedState())
        changes.outboxAdds.append(entry)
        changes.history.append((history.id, try history.jsonBytes()))
        try store.commit(changes)
        return (entry, history)
    }

    /// The session to send on as the store holds it now: the current one when the contact's
    /// identity is settled, else one started from `bundle`; nil when that needs a bundle and
    /// none was given. The caller encrypts and commits before any suspension point.
    func sendingSession(to recipient: String, bundle: PrekeyBundle?) throws -> (Session, Contact)? {
        if let known = try contact(recipient), known.pendingIdentity == nil, let state = try store.item("session", recipient) {
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

    /// Bundles for those of `recipients` that have no session to send on yet, fetched before any
    /// session is read. A recipient whose fetch fails is left out, with a warning naming `purpose`.
    func bundlesForNewSessions(_ recipients: [String], purpose: String) async -> [String: PrekeyBundle] {
        var bundles: [String: PrekeyBundle] = [:]
        for recipient in recipients {
            do {
                if try sendingSession(to: recipient, bundle: nil) != nil { continue }
            } catch {
                continue  // refused by the identity or policy check: reported when sealing
            }
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
