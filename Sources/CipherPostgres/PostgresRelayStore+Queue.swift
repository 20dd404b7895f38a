import CipherRelay
import NIOCore
import PostgresNIO

/// Group commit on PostgreSQL. The first `enqueue` with no writer running starts one; the
/// writer takes everything gathered as one batch, runs `cipherchat_enqueue` over it in a
/// transaction, hands each caller its envelope's fate, then commits, and repeats while calls
/// gathered meanwhile. Batches run one after another, so calls made one after another keep
/// their order, and once the newest batch settled every earlier enqueue has.
extension PostgresRelayStore {
    public func enqueue(_ envelope: NewEnvelope, quota: Int) async throws -> EnqueueTicket {
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
        if case .quotaExceeded = result { return EnqueueTicket(result: result) {} }
        // A duplicate may be of an envelope in this very batch: it too waits for the commit.
        return EnqueueTicket(result: result) { try await signal.wait() }
    }

    /// Waits until every envelope enqueued before the call has been committed (or its batch
    /// failed), then reads: what is handed out from here is in the database, and everything
    /// enqueued through this instance before is seen.
    public func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope] {
        guard limit > 0 else { return [] }
        await earlierEnqueuesSettled()
        let rows = try await client.query("""
            SELECT delivery_id, sender, client_message_id, accepted_at, envelope FROM queue
            WHERE recipient = \(recipient) AND delivery_id > \(Int64(clamping: afterID))
            ORDER BY delivery_id LIMIT \(limit)
            """, logger: logger)
        var envelopes: [QueuedEnvelope] = []
        for try await (id, sender, clientMessageID, acceptedAt, envelope) in rows.decode((Int64, String, ByteBuffer, Int64, ByteBuffer).self) {
            envelopes.append(QueuedEnvelope(
                deliveryID: UInt64(clamping: id), sender: sender, recipient: recipient,
                clientMessageID: Array(clientMessageID.readableBytesView), acceptedAtMilliseconds: UInt64(clamping: acceptedAt),
                envelope: Array(envelope.readableBytesView)
            ))
        }
        return envelopes
    }

    /// An envelope is pushed to its recipient before its commit, so an acknowledgement may
    /// arrive first: it waits for the batches under way, then deletes.
    public func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws {
        guard !deliveryIDs.isEmpty else { return }
        await earlierEnqueuesSettled()
        let ids = deliveryIDs.map { Int64(clamping: $0) }
        try await client.query("SELECT cipherchat_acknowledge(\(recipient), \(ids))", logger: logger)
    }

    public func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int {
        let rows = try await client.query("SELECT cipherchat_expire(\(Int64(clamping: cutoffMilliseconds)))", logger: logger)
        for try await removed in rows.decode(Int64.self) { return Int(removed) }
        throw PostgresRelayStoreError.unexpectedResult
    }

    public func queuedCount(for recipient: String) async throws -> Int {
        await earlierEnqueuesSettled()
        let rows = try await client.query("SELECT queued FROM queue_counts WHERE recipient = \(recipient)", logger: logger)
        for try await queued in rows.decode(Int64.self) { return Int(queued) }
        return 0
    }

    public func queuedCounts(among recipients: [String]) async throws -> [String: Int] {
        guard !recipients.isEmpty else { return [:] }
        let rows = try await client.query(
            "SELECT recipient, queued FROM queue_counts WHERE recipient = ANY (\(recipients)) AND queued > 0", logger: logger
        )
        var counts: [String: Int] = [:]
        for try await (recipient, queued) in rows.decode((String, Int64).self) { counts[recipient] = Int(queued) }
        return counts
    }

    private func earlierEnqueuesSettled() async {
        let latest = groupCommit.withLock { $0.latestSignal }
        await latest?.settled()
    }

    /// The writer: runs batches until none is waiting.
    private func writeBatches() async {
        while let batch = groupCommit.withLock({ $0.takeBatch() }) {
            await write(batch.calls, signal: batch.signal)
        }
    }

    private func write(_ calls: [PostgresGroupCommit.Waiting], signal: CommitSignal) async {
        var decided = false
        do {
            try await client.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: logger)
                do {
                    let results = try await decide(calls, on: connection)
                    for (call, result) in zip(calls, results) { call.decided.resume(returning: (result, signal)) }
                    decided = true
                    _ = try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
            groupCommit.withLock { $0.recordCommit() }
            signal.finish(.success(()))
        } catch {
            logger.error("storing a batch of envelopes failed", metadata: ["envelopes": "\(calls.count)", "error": "\(String(reflecting: error))"])
            if !decided { for call in calls { call.decided.resume(throwing: error) } }
            signal.finish(.failure(error))
        }
    }

    /// One statement for the whole batch: its fate per envelope, in the batch's order.
    private func decide(_ calls: [PostgresGroupCommit.Waiting], on connection: PostgresConnection) async throws -> [EnqueueResult] {
        let envelopes = calls.map(\.envelope)
        let senders = envelopes.map(\.sender)
        let recipients = envelopes.map(\.recipient)
        let clientMessageIDs = envelopes.map { ByteBuffer(bytes: $0.clientMessageID) }
        let acceptedAt = envelopes.map { Int64(clamping: $0.acceptedAtMilliseconds) }
        let bodies = envelopes.map { ByteBuffer(bytes: $0.envelope) }
        let quotas = calls.map { Int64($0.quota) }
        let rows = try await connection.query("""
            SELECT out_ordinal, out_outcome, out_delivery_id, out_accepted_at, out_envelope FROM cipherchat_enqueue(
                \(senders), \(recipients), \(clientMessageIDs), \(acceptedAt), \(bodies), \(quotas), \(instanceID))
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
                results[index] = .quotaExceeded(quota: calls[index].quota)
            default:
                throw PostgresRelayStoreError.unexpectedResult
            }
        }
        let complete = results.compactMap { $0 }
        guard complete.count == calls.count else { throw PostgresRelayStoreError.unexpectedResult }
        return complete
    }
}
