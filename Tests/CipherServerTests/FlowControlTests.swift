import CipherClient
import CipherRelay
import CipherTesting
import Foundation
import Testing

/// Flow control (PROTOCOL.md 12.5): a connection has at most `maxUnacknowledgedDeliveries`
/// deliveries in flight, and acknowledgements bring the rest.
@Suite("Delivery flow control")
struct FlowControlTests {
    @Test("1,500 queued reach a client on one connection, past the 1,000 in flight")
    func longQueueDrains() async throws {
        let relay = try await TestRelay.start()
        let bob = try await relay.makeUser("bob")
        let queued = 1_500
        // Envelopes that do not decrypt: each is a warning, acknowledged like a message, and
        // cheap to make; flow control does not look inside.
        let random = SeededRandomSource(seed: "flow control")
        var last: EnqueueTicket?
        for _ in 0..<queued {
            last = try relay.store.enqueue(
                NewEnvelope(
                    sender: "alice", recipient: "bob", clientMessageID: random.bytes(16),
                    acceptedAtMilliseconds: 1_767_225_600_000, envelope: random.bytes(64)
                ),
                quota: QueueQuota(total: queued, perSender: queued)
            )
        }
        try await last?.durable()
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait(seconds: 120) { await $0.warnings.count >= queued })
        #expect(await events.warnings.count == queued)
        let drained = await events.wait(seconds: 60) { _ in (try? await relay.store.queuedCount(for: "bob")) == 0 }
        #expect(drained)
        await bob.close()
        await relay.stop()
    }
}
