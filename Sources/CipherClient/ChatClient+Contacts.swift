import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    /// The contact's pinned identity, verified at most once per process.
    func pinnedIdentity(of contact: Contact) throws -> PublicIdentity {
        if let known = verifiedIdentities[contact.identity] { return known }
        let identity = try contact.publicIdentity()
        verifiedIdentities[contact.identity] = identity
        return identity
    }

    func contact(_ username: String) throws -> Contact? {
        try store.item("contact", username).map(Contact.decode)
    }

    /// Every contact, for `/who` and listings.
    public func contacts() throws -> [(username: String, fingerprint: Fingerprint, verified: Bool, identityChanged: Bool)] {
        try store.items("contact").map { item in
            let contact = try Contact.decode(item.value)
            return (contact.username, try pinnedIdentity(of: contact).fingerprint, contact.verified, contact.pendingIdentity != nil)
        }
    }

    /// Whether `fingerprint` is the identity the user verified for `username`. A room message's
    /// ✓ rests on this, not on the contact's flag alone: the room's statements name the key its
    /// sender holds, and a member admitted under another key before this contact was pinned is
    /// not the person the user verified.
    func isVerified(_ username: String, fingerprint: Fingerprint) throws -> Bool {
        guard let known = try contact(username), known.verified else { return false }
        return try pinnedIdentity(of: known).fingerprint == fingerprint
    }

    /// Fetches `username`'s bundle from the relay and checks it against the pinned identity,
    /// pinning it on first use. Throws `identityChanged` (recording the new identity) on a change.
    func fetchBundle(_ username: String) async throws -> PrekeyBundle {
        try await fetchCheckedBundle(username).bundle
    }

    /// The bundle, and the contact as its identity left it (pinned on first use).
    func fetchCheckedBundle(_ username: String) async throws -> (bundle: PrekeyBundle, contact: Contact) {
        var fetch = WireFetchBundle()
        fetch.username = username
        let reply = try await requestOnCurrentLink(.fetchBundle(fetch))
        guard case .bundle(let wire) = reply.body, wire.username == username else { throw RelayError.unexpectedReply }
        let bundle = try PrekeyBundle(wire: wire.bundle)
        return (bundle, try checkIdentity(bundle.identity, of: username))
    }

    /// Pins on first use; refuses (and records) a different identity for a known contact.
    @discardableResult
    func checkIdentity(_ presented: PublicIdentity, of username: String) throws -> Contact {
        var changes = StoreChanges()
        let contact = try checkIdentity(presented, of: username, pinningInto: &changes)
        // No sync of its own: what follows a first contact (the durable commit before a
        // message is sent, or the sync before one is acknowledged) syncs it too.
        if !changes.puts.isEmpty { try store.commit(changes, durable: false) }
        return contact
    }

    /// As `checkIdentity`, with the pin of a first identity put into `changes` rather than
    /// committed: a handshake message pins its sender only if it decrypts. A refused change is
    /// recorded at once, whatever the caller commits.
    func checkIdentity(_ presented: PublicIdentity, of username: String, pinningInto pins: inout StoreChanges) throws -> Contact {
        let presentedHex = Hex.encode(presented.serialized)
        guard var known = try contact(username) else {
            let contact = Contact(username: username, identity: presentedHex, verified: false, pendingIdentity: nil)
            pins.put("contact", username, try contact.encoded())
            return contact
        }
        let pinned = try pinnedIdentity(of: known)
        guard pinned.fingerprint == presented.fingerprint else {
            known.pendingIdentity = presentedHex
            var changes = StoreChanges()
            changes.put("contact", username, try known.encoded())
            try store.commit(changes)
            throw ClientError.identityChanged(
                username: username, pinned: pinned.fingerprint.displayString, presented: presented.fingerprint.displayString
            )
        }
        return known
    }

    /// The safety number with `username` (fetching and pinning their identity if unknown), and
    /// their fingerprint.
    public func safetyNumber(with username: String) async throws -> (SafetyNumber, Fingerprint) {
        let identity: PublicIdentity
        if let known = try contact(username) {
            identity = try pinnedIdentity(of: known)
        } else {
            identity = try await fetchBundle(username).identity
        }
        return (
            SafetyNumber(local: self.identity.publicIdentity, localUsername: self.username, remote: identity, remoteUsername: username),
            identity.fingerprint
        )
    }

    /// Marks `username` verified when `number` is the safety number (with or without spaces).
    public func verify(_ username: String, safetyNumber number: String) async throws -> Bool {
        guard var known = try contact(username) else {
            _ = try await safetyNumber(with: username)
            return try await verify(username, safetyNumber: number)
        }
        let expected = SafetyNumber(
            local: identity.publicIdentity, localUsername: self.username, remote: try pinnedIdentity(of: known), remoteUsername: username
        )
        guard expected.matches(number) else { return false }
        known.verified = true
        var changes = StoreChanges()
        changes.put("contact", username, try known.encoded())
        try store.commit(changes)
        return true
    }

    /// What `trust` did.
    public enum TrustOutcome: Sendable, Equatable {
        /// The changed identity is pinned now (unverified).
        case accepted
        /// There was no changed identity to accept.
        case noChange
        /// The confirmation is neither the safety number nor the fingerprint of the changed
        /// identity as it stands now: nothing was accepted.
        case mismatch
    }

    /// The safety number and fingerprint of `username`'s changed identity, not yet accepted;
    /// nil when there is none.
    public func pendingSafetyNumber(with username: String) throws -> (SafetyNumber, Fingerprint)? {
        guard let known = try contact(username), let pending = known.pendingIdentity, let bytes = Hex.decode(pending) else { return nil }
        let presented = try PublicIdentity(serialized: bytes)
        return (
            SafetyNumber(local: identity.publicIdentity, localUsername: self.username, remote: presented, remoteUsername: username),
            presented.fingerprint
        )
    }

    /// Accepts `username`'s changed identity when `confirmation` is its safety number with this
    /// user or its fingerprint (spaces allowed), compared with the changed identity as it stands
    /// at this moment: an identity that changed again after the user checked one is not the one
    /// accepted. It becomes the pinned one (unverified), the old session is dropped, and messages
    /// held back because of the change are processed.
    public func trust(_ username: String, confirming confirmation: String) async throws -> TrustOutcome {
        guard var known = try contact(username), let pending = known.pendingIdentity,
              let (number, fingerprint) = try pendingSafetyNumber(with: username) else { return .noChange }
        let typed = confirmation.filter { !$0.isWhitespace }
        let typedFingerprint = Hex.decode(typed).flatMap(Fingerprint.init(bytes:))
        guard number.matches(typed) || typedFingerprint == fingerprint else { return .mismatch }
        known.identity = pending
        known.pendingIdentity = nil
        known.verified = false
        var changes = StoreChanges()
        changes.put("contact", username, try known.encoded())
        changes.delete("session", username)
        changes.delete(SessionSlot.previous.kind, username)
        try store.commit(changes)
        for (name, value) in try store.items("held") {
            let held = try HeldDelivery.fromJSON(value)
            guard held.sender == username else { continue }
            var cleanup = StoreChanges()
            cleanup.delete("held", name)
            try store.commit(cleanup)
            await process(held.delivery)
        }
        return .accepted
    }
}

/// A delivery kept back because its sender's identity changed, until the user decides.
struct HeldDelivery: Codable {
    var sender: String
    var deliveryID: UInt64
    var clientMessageID: String
    var acceptedAt: UInt64
    var envelope: String

    init(_ delivery: WireDelivery) {
        sender = delivery.sender
        deliveryID = delivery.deliveryID
        clientMessageID = Hex.encode(delivery.clientMessageID)
        acceptedAt = delivery.acceptedAtMs
        envelope = Hex.encode(delivery.envelope)
    }

    var delivery: WireDelivery {
        var delivery = WireDelivery()
        delivery.sender = sender
        delivery.deliveryID = deliveryID
        delivery.clientMessageID = Data(Hex.decode(clientMessageID) ?? [])
        delivery.acceptedAtMs = acceptedAt
        delivery.envelope = Data(Hex.decode(envelope) ?? [])
        return delivery
    }
}
