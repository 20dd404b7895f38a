import CipherCore
import CipherWire
import Foundation

extension ChatClient {
    static var nowSeconds: UInt64 { UInt64(Date().timeIntervalSince1970) }
    static var nowMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// The first signed, post-quantum and one-time prekeys, stored and then published.
    func publishInitialPrekeys(on link: RelayLink) async throws {
        let signed = try SignedPrekeyPair.generate(id: 1, createdAt: Self.nowSeconds, identity: identity, random: random)
        let postQuantum = try PostQuantumPrekeyPair.generate(id: 1, createdAt: Self.nowSeconds, identity: identity, random: random)
        var changes = StoreChanges()
        changes.put("signed-prekey", "1", try StoredSignedPrekey(signed).jsonBytes())
        changes.put("pq-prekey", "1", try StoredPostQuantumPrekey(postQuantum).jsonBytes())
        let oneTime = try makeOneTimePrekeys(&changes)
        try store.commit(changes)
        try store.setSetting("current_signed_prekey", "1")
        try store.setSetting("current_pq_prekey", "1")
        var publish = WirePublishPrekeys()
        publish.signedPrekey = signed.publicPrekey.wire
        publish.postQuantumPrekey = postQuantum.publicPrekey.wire
        publish.oneTimePrekeys = oneTime.map(\.publicPrekey.wire)
        _ = try await link.request(.publishPrekeys(publish))
        try store.setSetting("published_signed_prekey", "1")
    }

    /// A batch of one-time prekeys with fresh ids, added to `changes`.
    private func makeOneTimePrekeys(_ changes: inout StoreChanges) throws -> [OneTimePrekeyPair] {
        let first = UInt32(try store.setting("next_one_time_prekey") ?? "1") ?? 1
        let batch = try OneTimePrekeyPair.generateBatch(firstID: first, count: Self.oneTimePrekeyBatch, random: random)
        for pair in batch { changes.put("one-time-prekey", String(pair.publicPrekey.id), pair.privateKeyBytes) }
        try store.setSetting("next_one_time_prekey", String(first &+ UInt32(Self.oneTimePrekeyBatch)))
        return batch
    }

    /// Rotates the signed and post-quantum prekeys when due, drops those past their grace
    /// period, and tops up one-time prekeys; failures are retried at the next connection.
    func maintainPrekeys(on link: RelayLink) async {
        do {
            var publish = WirePublishPrekeys()
            var changes = StoreChanges()
            let now = Self.nowSeconds
            let currentID = try store.setting("current_signed_prekey") ?? "1"
            let current = try signedPrekey(id: UInt32(currentID) ?? 1)
            var newCurrentID: String?
            if let current, SignedPrekeyPair.isDueForRotation(createdAt: current.publicPrekey.createdAt, now: now, interval: Self.signedPrekeyRotationSeconds) {
                let nextID = current.publicPrekey.id &+ 1
                let signed = try SignedPrekeyPair.generate(id: nextID, createdAt: now, identity: identity, random: random)
                let postQuantum = try PostQuantumPrekeyPair.generate(id: nextID, createdAt: now, identity: identity, random: random)
                changes.put("signed-prekey", String(nextID), try StoredSignedPrekey(signed).jsonBytes())
                changes.put("pq-prekey", String(nextID), try StoredPostQuantumPrekey(postQuantum).jsonBytes())
                publish.signedPrekey = signed.publicPrekey.wire
                publish.postQuantumPrekey = postQuantum.publicPrekey.wire
                newCurrentID = String(nextID)
            } else if let current, try store.setting("published_signed_prekey") != currentID,
                      let postQuantum = try postQuantumPrekey(id: current.publicPrekey.id) {
                // The last upload of the current prekeys did not get through: repeat it.
                publish.signedPrekey = current.publicPrekey.wire
                publish.postQuantumPrekey = postQuantum.publicPrekey.wire
            }
            for (name, value) in try store.items("signed-prekey") where name != currentID {
                let stored = try StoredSignedPrekey.fromJSON(value)
                if let pair = try? stored.pair(owner: identity.publicIdentity),
                   now > pair.publicPrekey.createdAt + Self.signedPrekeyRotationSeconds + Self.signedPrekeyGraceSeconds {
                    changes.delete("signed-prekey", name)
                    changes.delete("pq-prekey", name)
                }
            }
            // The relay's count decides, at most once per interval: a stranger fetching bundles
            // in a loop drains the relay's pool (later bundles carry no one-time prekey, which
            // the handshake allows) instead of making this store grow and sync without end.
            if relayOneTimePrekeyCount < Self.oneTimePrekeyBatch / 2, try oneTimePrekeyTopUpIsDue(now: now) {
                publish.oneTimePrekeys = try makeOneTimePrekeys(&changes).map(\.publicPrekey.wire)
                try store.setSetting("last_one_time_prekey_top_up", String(now))
                try dropOldestOneTimePrekeys(&changes, making: publish.oneTimePrekeys.count)
            }
            // The new prekeys are stored before they become current, so a failure in between
            // leaves the old ones in force.
            try store.commit(changes)
            if let newCurrentID {
                try store.setSetting("current_signed_prekey", newCurrentID)
                try store.setSetting("current_pq_prekey", newCurrentID)
            }
            if publish.hasSignedPrekey || !publish.oneTimePrekeys.isEmpty {
                _ = try await link.request(.publishPrekeys(publish))
                if publish.hasSignedPrekey { try store.setSetting("published_signed_prekey", String(publish.signedPrekey.id)) }
                if !publish.oneTimePrekeys.isEmpty { relayOneTimePrekeyCount += publish.oneTimePrekeys.count }
            }
        } catch {
            logger.warning("prekey maintenance failed", metadata: ["error": "\(error)"])
        }
    }

    /// Whether the last top-up of one-time prekeys is at least `oneTimePrekeyTopUpSeconds` old.
    private func oneTimePrekeyTopUpIsDue(now: UInt64) throws -> Bool {
        guard let last = try store.setting("last_one_time_prekey_top_up").flatMap(UInt64.init) else { return true }
        return now < last || now - last >= Self.oneTimePrekeyTopUpSeconds
    }

    /// Deletes the private halves of the oldest one-time prekeys so that, with `adding` new
    /// ones, at most `maxStoredOneTimePrekeys` are kept. The oldest were handed out longest ago
    /// and never used: a first message naming one now fails as a prekey mismatch, which the
    /// sender sees as an undelivered message, not as a silent loss of keys' secrecy.
    private func dropOldestOneTimePrekeys(_ changes: inout StoreChanges, making adding: Int) throws {
        let stored = try store.itemNames("one-time-prekey").compactMap(UInt32.init).sorted()
        let excess = stored.count + adding - Self.maxStoredOneTimePrekeys
        guard excess > 0 else { return }
        for id in stored.prefix(excess) { changes.delete("one-time-prekey", String(id)) }
    }

    func signedPrekey(id: UInt32) throws -> SignedPrekeyPair? {
        try store.item("signed-prekey", String(id)).map { try StoredSignedPrekey.fromJSON($0).pair(owner: identity.publicIdentity) }
    }

    func postQuantumPrekey(id: UInt32) throws -> PostQuantumPrekeyPair? {
        try store.item("pq-prekey", String(id)).map { try StoredPostQuantumPrekey.fromJSON($0).pair(owner: identity.publicIdentity) }
    }

    func currentSignedPrekey() throws -> SignedPrekeyPair {
        guard let id = UInt32(try store.setting("current_signed_prekey") ?? ""), let pair = try signedPrekey(id: id) else {
            throw ClientError.storeCorrupted
        }
        return pair
    }
}
