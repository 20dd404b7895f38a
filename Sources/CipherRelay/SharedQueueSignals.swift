/// A store that several relay instances share: a client may be connected to one instance
/// while its messages are queued through another. The queue in the store is the truth; these
/// signals only say when to look at it.
public protocol SharedQueueSignals: Sendable {
    /// Recipients that another instance queued envelopes for, as that instance committed.
    /// Best effort: a signal may be lost, which the relay's poll covers.
    var queueWakeups: AsyncStream<String> { get }
    /// How many envelopes are queued for each of `recipients` that has any.
    func queuedCounts(among recipients: [String]) async throws -> [String: Int]
}
