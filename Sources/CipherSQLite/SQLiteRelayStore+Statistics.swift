import CipherRelay
import GRDB

extension SQLiteRelayStore {
    /// Counts the committed queue in the database (not the bookkeeping in memory), so that a
    /// store that stopped answering shows here; envelopes of a batch still being written are
    /// counted once it commits, a few milliseconds later.
    public func totalQueuedEnvelopes() async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM \(Self.queueTable)") ?? 0
        }
    }
}
