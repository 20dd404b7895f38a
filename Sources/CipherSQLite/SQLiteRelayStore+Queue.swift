import CipherRelay
import Foundation
import GRDB

/// Group commit. `enqueue` decides, under the bookkeeping lock, whether the envelope is a
/// duplicate (of a committed envelope or an uncommitted one) or over quota, and otherwise gives
/// it the next delivery id and appends it to the open batch; the first envelope of a batch
/// schedules the batch's flush on the queue writer. While one batch is being written and
/// synced, new envelopes gather in the next, so concurrent senders share commits.
///
/// Ordering: ids are assigned under the lock, batches hold increasing ids and commit one after
/// another, so every committed state of the queue holds a prefix of the ids handed out (less
/// those of a failed batch), and a reader paging with `after:` never skips one.
extension SQLiteRelayStore {
    public func enqueue(_ envelope: NewEnvelope, quota: Int) throws -> EnqueueTicket {
        let key = GroupCommitState.EnvelopeKey(envelope)
        // The committed lookup runs outside the lock: it may wait for a free reader connection,
        // and holding the lock meanwhile let the queue writer and every other sender block
        // behind it until the relay stalled (with two cores, the whole cooperative pool). A
        // batch that settles between the lookup and the lock could hide an original that just
        // left `uncommitted`, so the decision is retried when one did.
        var acceptance: EnqueueDecision?
        for _ in 0..<Self.enqueueAttempts where acceptance == nil {
            let settledBefore = try groupCommit.withLock { state in
                guard !state.isClosed else { throw SQLiteRelayStoreError.closed }
                return state.settledBatchCount
            }
            let committed = try committedEnvelope(matching: key)
            acceptance = try groupCommit.withLock { (state: inout GroupCommitState) throws -> EnqueueDecision? in
                guard !state.isClosed else { throw SQLiteRelayStoreError.closed }
                if let existing = state.uncommittedEnvelope(matching: key) {
                    // The original is not on disk yet: the repeat is acknowledged only once it
                    // is. Batches commit in order, so the newest batch's commit covers it.
                    return .duplicate(existing, pendingCommit: state.latestSignal)
                }
                if let committed { return .duplicate(committed, pendingCommit: nil) }
                guard state.settledBatchCount == settledBefore else { return nil }
                return .accepted(state.accept(envelope, quota: quota))
            }
        }
        guard let acceptance else { throw SQLiteRelayStoreError.busy }
        switch acceptance {
        case .duplicate(let existing, let pendingCommit):
            return EnqueueTicket(result: .duplicate(existing)) { try await pendingCommit?.wait() }
        case .accepted(.quotaExceeded(let quota)):
            return EnqueueTicket(result: .quotaExceeded(quota: quota)) {}
        case .accepted(.stored(let stored, let signal, let startsBatch)):
            if startsBatch { queueWriter.async { self.flushOpenBatch() } }
            return EnqueueTicket(result: .stored(stored)) { try await signal.wait() }
        }
    }

    /// Waits until every envelope enqueued before the call has been committed (or its batch
    /// failed), then reads: a relay that hands an envelope to its recipient from here hands
    /// out only what is on disk, and still sees everything enqueued before.
    public func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope] {
        guard limit > 0 else { return [] }
        await earlierEnqueuesSettled()
        return try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT delivery_id, sender, recipient, client_message_id, accepted_at, envelope FROM queue
                    WHERE recipient = ? AND delivery_id > ? ORDER BY delivery_id LIMIT ?
                    """),
                arguments: [recipient, Int64(sqlite: afterID), limit]
            ).map(QueuedEnvelope.init(row:))
        }
    }

    public func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws {
        let deliveryIDs = Set(deliveryIDs)
        guard !deliveryIDs.isEmpty else { return }
        try await onQueueWriter {
            // An envelope may be acknowledged before its batch was written (it is pushed to
            // the recipient at once), so the delete runs in the open batch's transaction,
            // after its inserts: one commit (one disk sync) for both instead of two.
            let removed = try self.flushOpenBatch(alsoWriting: { db in
                let delete = try db.cachedStatement(sql: "DELETE FROM queue WHERE recipient = ? AND delivery_id = ?")
                var removed = 0
                for deliveryID in deliveryIDs {
                    try delete.execute(arguments: [recipient, Int64(sqlite: deliveryID)])
                    removed += db.changesCount
                }
                return removed
            })
            self.groupCommit.withLock { $0.removeQueued(removed, for: recipient) }
        }
    }

    public func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int {
        let cutoff = Int64(sqlite: cutoffMilliseconds)
        return try await onQueueWriter {
            self.flushOpenBatch()
            let removedPerRecipient = try self.pool.write { db in
                var removed: [String: Int] = [:]
                let counts = try Row.fetchCursor(
                    db, sql: "SELECT recipient, count(*) AS expired FROM queue WHERE accepted_at < ? GROUP BY recipient",
                    arguments: [cutoff]
                )
                while let row = try counts.next() { removed[row["recipient"]] = row["expired"] }
                try db.execute(sql: "DELETE FROM queue WHERE accepted_at < ?", arguments: [cutoff])
                return removed
            }
            self.groupCommit.withLock { state in
                for (recipient, count) in removedPerRecipient { state.removeQueued(count, for: recipient) }
            }
            return removedPerRecipient.values.reduce(0, +)
        }
    }

    /// From the bookkeeping, without a query: envelopes accepted and not yet acknowledged or
    /// expired, including those whose commit is still under way (as for the quota).
    public func queuedCount(for recipient: String) async throws -> Int {
        groupCommit.withLock { $0.queuedCount(for: recipient) }
    }

    /// Writes the open batch, if any, in one transaction, then wakes everyone waiting on it.
    /// Runs only on the queue writer.
    func flushOpenBatch() {
        guard groupCommit.withLock({ $0.hasOpenBatch }) else { return }
        _ = try? flushOpenBatch { _ in () }
    }

    /// Writes the open batch and then runs `alsoWrite` in the same transaction (alone when no
    /// batch is open); wakes the batch's waiters with the transaction's outcome. Runs only on
    /// the queue writer.
    func flushOpenBatch<T>(alsoWriting alsoWrite: (Database) throws -> T) throws -> T {
        guard let batch = groupCommit.withLock({ $0.takeOpenBatch() }) else {
            return try pool.write { db in try alsoWrite(db) }
        }
        let outcome = Result {
            try pool.write { db in
                let insert = try db.cachedStatement(
                    sql: "INSERT INTO queue (delivery_id, sender, recipient, client_message_id, accepted_at, envelope) VALUES (?, ?, ?, ?, ?, ?)"
                )
                for envelope in batch.envelopes {
                    try insert.execute(arguments: [
                        Int64(sqlite: envelope.deliveryID), envelope.sender, envelope.recipient,
                        Data(sqlite: envelope.clientMessageID), Int64(sqlite: envelope.acceptedAtMilliseconds),
                        Data(sqlite: envelope.envelope),
                    ])
                }
                try Self.reserveDeliveryIDs(through: batch.highestAssignedID + Self.deliveryIDReserve, db)
                return try alsoWrite(db)
            }
        }
        groupCommit.withLock { $0.finish(batch, committed: (try? outcome.get()) != nil) }
        batch.signal.finish(outcome.map { _ in () })
        return try outcome.get()
    }

    private func earlierEnqueuesSettled() async {
        let latest = groupCommit.withLock { $0.latestSignal }
        await latest?.settled()
    }

    /// A fresh read on a reader connection; the unique index answers it.
    private func committedEnvelope(matching key: GroupCommitState.EnvelopeKey) throws -> QueuedEnvelope? {
        try pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: """
                    SELECT delivery_id, sender, recipient, client_message_id, accepted_at, envelope FROM queue
                    WHERE recipient = ? AND sender = ? AND client_message_id = ?
                    """),
                arguments: [key.recipient, key.sender, Data(sqlite: key.clientMessageID)]
            ).map(QueuedEnvelope.init(row:))
        }
    }
}

private enum EnqueueDecision {
    case duplicate(QueuedEnvelope, pendingCommit: CommitSignal?)
    case accepted(GroupCommitState.Acceptance)
}
