import CipherRelay
import PostgresNIO

extension PostgresRelayStore {
    /// Sums the per-recipient counts the commit function keeps, a query of the database
    /// itself, so that a database that stopped answering shows here (`/readyz`).
    public func totalQueuedEnvelopes() async throws -> Int {
        let rows = try await client.query("SELECT coalesce(sum(queued), 0)::bigint FROM queue_counts", logger: logger)
        for try await total in rows.decode(Int64.self) { return Int(total) }
        return 0
    }
}
