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
    public func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) throws -> EnqueueTicket {
        let key = GroupCommitState.EnvelopeKey(envelope)
        // Most envelopes are new: when the filter of committed keys rules a match out, the
        // decision needs no read at all.
        var acceptance: EnqueueDecision? = try groupCommit.withLock { state in
            guard !state.isClosed else { throw SQLiteRelayStoreError.closed }
            if let existing = state.uncommittedEnvelope(matching: key) {
                return .duplicate(existing, pendingCommit: state.latestSignal)
            }
            guard !state.mayBeCommitted(key) else { return nil }
            return .accepted(state.accept(envelope, quota: quota))
        }
        // The committed lookup runs outside the lock: it may wait for a free reader connection,
        // and holding the lock meanwhile let the queue writer and every other sender block
        // behind it until the relay stalled (with two cores, the whole cooperative pool). A
        // batch that settles between the lookup and the lock could hide an original that just
        // left `uncommitted`, so the decision is retried when one did.
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
            return EnqueueTicket(result: .duplicate(existing)) { completion in
                if let pendingCommit { pendingCommit.notify(completion) } else { completion(.success(())) }
            }
        case .accepted(.quotaExceeded(let quota)):
            return EnqueueTicket(result: .quotaExceeded(quota: quota)) { completion in completion(.success(())) }
        case .accepted(.senderQuotaExceeded(let quota)):
            return EnqueueTicket(result: .senderQuotaExceeded(quota: quota)) { completion in completion(.success(())) }
        case .accepted(.stored(let stored, let signal, let startsBatch)):
            if startsBatch { scheduleFlush() }
            return EnqueueTicket(result: .stored(stored)) { completion in signal.notify(completion) }
        }
    }

    /// Waits until every envelope enqueued before the call has been committed (or its batch
    /// failed), then reads: a relay that hands an envelope to its recipient from here hands
    /// out only what is on disk, and still sees everything enqueued before. Envelopes whose
    /// acknowledgement is not yet committed are left out.
    public func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope] {
        guard limit > 0 else { return [] }
        await earlierEnqueuesSettled()
        let deleted = groupCommit.withLock { $0.uncommittedDeletions }
        return try await pool.read { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT delivery_id, sender, recipient, client_message_id, accepted_at, envelope FROM queue
                    WHERE recipient = ? AND delivery_id > ? ORDER BY delivery_id LIMIT ?
                    """),
                arguments: [recipient, Int64(sqlite: afterID), limit + deleted.count]
            )
            var envelopes: [QueuedEnvelope] = []
            while envelopes.count < limit, let row = try rows.next() {
                let envelope = QueuedEnvelope(row: row)
                if !deleted.contains(envelope.deliveryID) { envelopes.append(envelope) }
            }
            return envelopes
        }
    }

    /// Adds the deletions to the open batch, to commit with the next batch of envelopes (one
    /// disk sync for both), and waits for that commit.
    public func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws {
        try await requestDeletions(recipient: recipient, deliveryIDs: deliveryIDs)?.wait()
    }

    /// Adds the deletions to the open batch and returns at once; `pending` leaves them out
    /// from now on.
    public func acknowledgeWithoutWaiting(recipient: String, deliveryIDs: [UInt64]) throws {
        _ = try requestDeletions(recipient: recipient, deliveryIDs: deliveryIDs)
    }

    /// The signal of the batch that will settle the deletions, nil when there are none.
    private func requestDeletions(recipient: String, deliveryIDs: [UInt64]) throws -> CommitSignal? {
        guard !deliveryIDs.isEmpty else { return nil }
        let (startsBatch, signal) = try groupCommit.withLock { state in
            guard !state.isClosed else { throw SQLiteRelayStoreError.closed }
            let startsBatch = state.requestDeletions(recipient: recipient, deliveryIDs: Set(deliveryIDs))
            return (startsBatch, state.latestSignal)
        }
        if startsBatch { scheduleFlush() }
        return signal
    }

    public func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int {
        let cutoff = Int64(sqlite: cutoffMilliseconds)
        return try await onQueueWriter {
            self.flushOpenBatch()
            let expired = try self.committingNow { db in
                try Row.fetchAll(
                    db, sql: "DELETE FROM queue WHERE accepted_at < ? RETURNING recipient, sender, client_message_id",
                    arguments: [cutoff]
                ).map(GroupCommitState.EnvelopeKey.init(row:))
            }
            self.groupCommit.withLock { $0.removeCommitted(expired) }
            return expired.count
        }
    }

    /// From the bookkeeping, without a query: envelopes accepted and not yet acknowledged or
    /// expired, including those whose commit is still under way (as for the quota).
    public func queuedCount(for recipient: String) async throws -> Int {
        groupCommit.withLock { $0.queuedCount(for: recipient) }
    }

    private func scheduleFlush() {
        queueWriter.async { self.flushOpenBatch() }
    }

    /// Writes the open batch, if any, in one transaction: its envelopes, then its deletions
    /// (an envelope may be acknowledged before its batch is written, since it is pushed to the
    /// recipient at once), then wakes everyone waiting on it. Runs only on the queue writer.
    func flushOpenBatch() {
        guard let batch = groupCommit.withLock({ $0.takeOpenBatch() }) else { return }
        let outcome = Result {
            try committingNow { db in
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
                if !batch.envelopes.isEmpty {
                    try Self.reserveDeliveryIDs(through: batch.highestAssignedID + Self.deliveryIDReserve, db)
                }
                let delete = try db.cachedStatement(
                    sql: "DELETE FROM queue WHERE recipient = ? AND delivery_id = ? RETURNING recipient, sender, client_message_id"
                )
                var deletedKeys: [GroupCommitState.EnvelopeKey] = []
                for deletion in batch.deletions {
                    if let row = try Row.fetchOne(delete, arguments: [deletion.recipient, Int64(sqlite: deletion.deliveryID)]) {
                        deletedKeys.append(GroupCommitState.EnvelopeKey(row: row))
                    }
                }
                return deletedKeys
            }
        }
        groupCommit.withLock {
            $0.finish(batch, committed: (try? outcome.get()) != nil, deletedKeys: (try? outcome.get()) ?? [])
        }
        batch.signal.finish(outcome.map { _ in () })
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

extension GroupCommitState.EnvelopeKey {
    init(row: Row) {
        self.init(
            recipient: row["recipient"], sender: row["sender"],
            clientMessageID: [UInt8]((row["client_message_id"] as Data))
        )
    }
}

private enum EnqueueDecision {
    case duplicate(QueuedEnvelope, pendingCommit: CommitSignal?)
    case accepted(GroupCommitState.Acceptance)
}
