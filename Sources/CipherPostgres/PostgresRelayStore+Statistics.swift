import CipherRelay
import PostgresNIO

extension PostgresRelayStore {
    /// From the per-recipient counts the queue keeps in step with its rows, not a scan.
    public func totalQueuedEnvelopes() async throws -> Int {
        return try await bounded { [self] in
            let rows = try await client.query("SELECT COALESCE(sum(queued), 0)::bigint FROM queue_counts", logger: logger)
            for try await total in rows.decode(Int64.self) { return Int(total) }
            return 0
        }
    }
}
