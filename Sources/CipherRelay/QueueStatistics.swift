/// What a store tells about its queues as a whole, for monitoring. Reading it is also how the
/// server checks that the store answers (`/readyz`), so it must read the store itself, not a
/// count kept in memory.
public protocol QueueStatistics: Sendable {
    /// Envelopes queued for all recipients and not yet acknowledged or expired.
    func totalQueuedEnvelopes() async throws -> Int
}
