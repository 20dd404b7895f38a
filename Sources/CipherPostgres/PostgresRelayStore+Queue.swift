import CipherRelay
import NIOCore
import PostgresNIO

/// Group commit on PostgreSQL. The first `enqueue` or acknowledgement with no writer running
/// starts one; the writer takes everything gathered as one batch, runs
/// `cipherchat_commit_batch` over it in a transaction, hands each caller its envelope's fate,
/// then commits, and repeats while more gathered meanwhile. Batches run one after another, so
/// calls made one after another keep their order, and once the newest batch committed every
/// earlier enqueue and acknowledgement is visible.
///
/// The batches commit asynchronously (`synchronous_commit = off`): the commit returns without
/// waiting for the disk, so a connection's next message need not wait for a disk sync before
/// its fate is known. PostgreSQL's log is written in order, so one synchronous commit made
/// afterwards (`WALFlusher`) makes every earlier batch durable at once: that is when tickets
/// complete and senders are acknowledged.
extension PostgresRelayStore {
    public func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) async throws -> EnqueueTicket {
        return try await bounded { [self] in
            let (result, signal) = try await withCheckedThrowingContinuation { continuation in
                let call = PostgresGroupCommit.Waiting(envelope: envelope, quota: quota, decided: continuation)
                let startWriter = groupCommit.withLock { state -> Bool? in
                    guard !state.isClosed else { return nil }
                    return state.add(call)
                }
                switch startWriter {
                case nil: continuation.resume(throwing: PostgresRelayStoreError.closed)
                case true?: Task { await self.writeBatches() }
                case false?: break
                }
            }
            switch result {
            case .quotaExceeded, .senderQuotaExceeded:
                return EnqueueTicket(result: result) { completion in completion(.success(())) }
            case .stored, .duplicate:
                break
            }
            // A duplicate may be of an envelope in this very batch: it too waits for the commit.
            return EnqueueTicket(result: result) { completion in signal.notify(completion) }
        }
    }

    /// Waits until every envelope enqueued before the call has been committed (or its batch
    /// failed), then reads: what is handed out from here is in the database, and everything
    /// enqueued through this instance before is seen.
    public func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope] {
        return try await bounded { [self] in
            guard limit > 0 else { return [] }
            await earlierEnqueuesSettled()
            // Taken before the read: a deletion that leaves this set has committed, and the read
            // does not see its envelope.
            let deleted = groupCommit.withLock { $0.uncommittedDeletions[recipient] } ?? []
            let rows = try await client.query("""
                SELECT delivery_id, sender, client_message_id, accepted_at, envelope FROM queue
                WHERE recipient = \(recipient) AND delivery_id > \(Int64(clamping: afterID))
                ORDER BY delivery_id LIMIT \(limit + deleted.count)
                """, logger: logger)
            var envelopes: [QueuedEnvelope] = []
            for try await (id, sender, clientMessageID, acceptedAt, envelope) in rows.decode((Int64, String, ByteBuffer, Int64, ByteBuffer).self)
            where !deleted.contains(UInt64(clamping: id)) && envelopes.count < limit {
                envelopes.append(QueuedEnvelope(
                    deliveryID: UInt64(clamping: id), sender: sender, recipient: recipient,
                    clientMessageID: Array(clientMessageID.readableBytesView), acceptedAtMilliseconds: UInt64(clamping: acceptedAt),
                    envelope: Array(envelope.readableBytesView)
                ))
            }
            return envelopes
        }
    }

    /// Deletes with the next batch, and waits for its commit.
    public func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws {
        try await bounded { [self] in
            guard !deliveryIDs.isEmpty else { return }
            let signal = try scheduleDeletion(recipient: recipient, deliveryIDs: deliveryIDs)
            try await signal.wait()
        }
    }

    /// Deletes with the next batch, without waiting; `pending` leaves the envelopes out from
    /// now on. An envelope is pushed before its commit, so an acknowledgement may come before
    /// it: the batch that deletes it commits after the one that stored it.
    public func acknowledgeWithoutWaiting(recipient: String, deliveryIDs: [UInt64]) throws {
        guard !deliveryIDs.isEmpty else { return }
        _ = try scheduleDeletion(recipient: recipient, deliveryIDs: deliveryIDs)
    }

    private func scheduleDeletion(recipient: String, deliveryIDs: [UInt64]) throws -> CommitSignal {
        let (signal, startWriter) = try groupCommit.withLock { state in
            guard !state.isClosed else { throw PostgresRelayStoreError.closed }
            return state.acknowledge(recipient: recipient, deliveryIDs: deliveryIDs)
        }
        if startWriter { Task { await self.writeBatches() } }
        return signal
    }

    public func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int {
        return try await bounded { [self] in
            let rows = try await client.query("SELECT cipherchat_expire(\(Int64(clamping: cutoffMilliseconds)))", logger: logger)
            for try await removed in rows.decode(Int64.self) { return Int(removed) }
            throw PostgresRelayStoreError.unexpectedResult
        }
    }

    public func queuedCount(for recipient: String) async throws -> Int {
        return try await bounded { [self] in
            await earlierEnqueuesSettled()
            let rows = try await client.query("SELECT queued FROM queue_counts WHERE recipient = \(recipient)", logger: logger)
            for try await queued in rows.decode(Int64.self) { return Int(queued) }
            return 0
        }
    }

    public func queuedCounts(among recipients: [String]) async throws -> [String: Int] {
        return try await bounded { [self] in
            guard !recipients.isEmpty else { return [:] }
            let rows = try await client.query(
                "SELECT recipient, queued FROM queue_counts WHERE recipient = ANY (\(recipients)) AND queued > 0", logger: logger
            )
            var counts: [String: Int] = [:]
            for try await (recipient, queued) in rows.decode((String, Int64).self) { counts[recipient] = Int(queued) }
            return counts
        }
    }

    private func earlierEnqueuesSettled() async {
        let latest = groupCommit.withLock { $0.latestCommitted }
        await latest?.settled()
    }

    /// The writer: runs batches until none is waiting.
    private func writeBatches() async {
        while let batch = groupCommit.withLock({ $0.takeBatch() }) {
            await write(batch)
        }
    }

    private func write(_ batch: PostgresGroupCommit.Batch) async {
        var decided = false
        do {
            try await createCounters(for: batch.calls.map(\.envelope.recipient))
            try await queueClient.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: logger)
                do {
                    let results = try await decide(batch, on: connection)
                    for (call, result) in zip(batch.calls, results) { call.decided.resume(returning: (result, batch.signal)) }
                    decided = true
                    _ = try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
            groupCommit.withLock { $0.finish(batch, committed: true) }
            batch.committed.finish(.success(()))
            flusher.flush(batch.signal)
        } catch {
            logger.error("storing a batch of envelopes failed", metadata: [
                "envelopes": "\(batch.calls.count)", "acknowledgements": "\(batch.deletions.count)", "error": "\(loggedError(error))",
            ])
            if !decided { for call in batch.calls { call.decided.resume(throwing: error) } }
            groupCommit.withLock { $0.finish(batch, committed: false) }
            batch.committed.finish(.failure(error))
            batch.signal.finish(.failure(error))
        }
    }

    /// Makes the counter rows of recipients not seen before, each committed on its own: the
    /// batch's transaction then only locks rows that exist, in name order, and two batches
    /// cannot deadlock over rows one of them is inserting.
    private func createCounters(for recipients: [String]) async throws {
        let new = knownCounters.withLock { known in Array(Set(recipients).subtracting(known)).sorted() }
        guard !new.isEmpty else { return }
        try await client.query("""
            INSERT INTO queue_counts (recipient, queued) SELECT r, 0 FROM unnest(\(new)::text[]) AS r
            ON CONFLICT (recipient) DO NOTHING
            """, logger: logger)
        knownCounters.withLock { $0.formUnion(new) }
    }

    /// One statement for the whole batch: its fate per envelope, in the batch's order.
    private func decide(_ batch: PostgresGroupCommit.Batch, on connection: PostgresConnection) async throws -> [EnqueueResult] {
        let calls = batch.calls
        let envelopes = calls.map(\.envelope)
        let senders = envelopes.map(\.sender)
        let recipients = envelopes.map(\.recipient)
        let clientMessageIDs = envelopes.map { ByteBuffer(bytes: $0.clientMessageID) }
        let acceptedAt = envelopes.map { Int64(clamping: $0.acceptedAtMilliseconds) }
        let bodies = envelopes.map { ByteBuffer(bytes: $0.envelope) }
        let quotas = calls.map { Int64($0.quota.total) }
        let senderQuotas = calls.map { Int64($0.quota.perSender) }
        let acknowledgedRecipients = batch.deletions.map(\.recipient)
        let acknowledgedIDs = batch.deletions.map { Int64(clamping: $0.deliveryID) }
        let rows = try await connection.query("""
            SELECT out_ordinal, out_outcome, out_delivery_id, out_accepted_at, out_envelope FROM cipherchat_commit_batch(
                \(senders)::text[], \(recipients)::text[], \(clientMessageIDs)::bytea[], \(acceptedAt)::bigint[],
                \(bodies)::bytea[], \(quotas)::bigint[], \(senderQuotas)::bigint[], \(instanceID),
                \(acknowledgedRecipients)::text[], \(acknowledgedIDs)::bigint[])
            """, logger: logger)
        var results = [EnqueueResult?](repeating: nil, count: calls.count)
        for try await (ordinal, outcome, id, accepted, stored) in rows.decode((Int32, Int16, Int64?, Int64?, ByteBuffer?).self) {
            let index = Int(ordinal) - 1
            guard results.indices.contains(index) else { throw PostgresRelayStoreError.unexpectedResult }
            let envelope = envelopes[index]
            switch (outcome, id, accepted) {
            case (0, let id?, let accepted?):
                results[index] = .stored(QueuedEnvelope(
                    deliveryID: UInt64(clamping: id), sender: envelope.sender, recipient: envelope.recipient,
                    clientMessageID: envelope.clientMessageID, acceptedAtMilliseconds: UInt64(clamping: accepted),
                    envelope: envelope.envelope
                ))
            case (1, let id?, let accepted?):
                results[index] = .duplicate(QueuedEnvelope(
                    deliveryID: UInt64(clamping: id), sender: envelope.sender, recipient: envelope.recipient,
                    clientMessageID: envelope.clientMessageID, acceptedAtMilliseconds: UInt64(clamping: accepted),
                    envelope: stored.map { Array($0.readableBytesView) } ?? []
                ))
            case (2, _, _):
                results[index] = .quotaExceeded(quota: calls[index].quota.total)
            case (3, _, _):
                results[index] = .senderQuotaExceeded(quota: calls[index].quota.perSender)
            default:
                throw PostgresRelayStoreError.unexpectedResult
            }
        }
        let complete = results.compactMap { $0 }
        guard complete.count == calls.count else { throw PostgresRelayStoreError.unexpectedResult }
        return complete
    }
}
