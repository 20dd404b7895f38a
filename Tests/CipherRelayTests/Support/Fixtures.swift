import CipherCore
import CipherRelay
import CipherTesting

/// Values the store tests put in and expect back. The store treats them as opaque bytes; real
/// encodings make the tests read like the relay's use.
enum Fixtures {
    static func account(_ name: String, registeredAt: UInt64 = 1_767_225_600_000) -> StoredAccount {
        let identity = switch name {
        case "alice": TestIdentities.alice.publicIdentity.serialized
        case "bob": TestIdentities.bob.publicIdentity.serialized
        default: TestIdentities.carol.publicIdentity.serialized
        }
        return StoredAccount(username: name, identity: identity, registeredAtMilliseconds: registeredAt)
    }

    static func envelope(
        from sender: String, to recipient: String, clientID: UInt8, at acceptedAt: UInt64 = 1_000,
        body: [UInt8]? = nil
    ) -> NewEnvelope {
        NewEnvelope(
            sender: sender, recipient: recipient, clientMessageID: [UInt8](repeating: clientID, count: 16),
            acceptedAtMilliseconds: acceptedAt, envelope: body ?? Array("\(sender)->\(recipient) #\(clientID)".utf8)
        )
    }
}

extension EnqueueResult {
    /// The envelope stored or found, for tests that expect one.
    var envelope: QueuedEnvelope? {
        switch self {
        case .stored(let envelope), .duplicate(let envelope): envelope
        case .quotaExceeded, .senderQuotaExceeded: nil
        }
    }
}

extension QueueStore {
    /// Enqueues and waits for durability, as a relay does before acknowledging the sender.
    func enqueueDurably(_ envelope: NewEnvelope, quota: QueueQuota = 100) async throws -> EnqueueResult {
        let ticket = try await enqueue(envelope, quota: quota)
        try await ticket.durable()
        return ticket.result
    }
}
