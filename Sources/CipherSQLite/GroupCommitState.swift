import CipherRelay

/// The queue's bookkeeping kept in memory, so that `enqueue` decides an envelope's fate and
/// delivery id at once, without waiting for a write: the next delivery id, the number of
/// envelopes queued per recipient (committed or not), the envelopes accepted but not yet
/// committed, the deletions asked for but not yet committed, and a filter of the keys queued
/// on disk that spares most enqueues a duplicate lookup. Pure state, changed only under the
/// store's lock; the store does the I/O.
struct GroupCommitState {
    struct Deletion: Hashable {
        let recipient: String
        let deliveryID: UInt64
    }

    /// What was accepted since the last batch was taken for writing; its flush is scheduled.
    struct Batch {
        var envelopes: [QueuedEnvelope] = []
        var deletions: [Deletion] = []
        let signal = CommitSignal()
    }

    /// A batch taken for writing, with the highest delivery id handed out so far (which the
    /// write reserves in the database; see `SQLiteRelayStore.deliveryIDReserve`).
    struct TakenBatch {
        let envelopes: [QueuedEnvelope]
        let deletions: [Deletion]
        let signal: CommitSignal
        let highestAssignedID: UInt64
    }

    struct EnvelopeKey: Hashable {
        let recipient: String
        let sender: String
        let clientMessageID: [UInt8]
    }

    enum Acceptance {
        case stored(QueuedEnvelope, CommitSignal, startsBatch: Bool)
        case quotaExceeded(quota: Int)
        case senderQuotaExceeded(quota: Int)
    }

    /// A sender's envelopes in one recipient's queue.
    struct SenderKey: Hashable {
        let recipient: String
        let sender: String
    }

    private(set) var nextDeliveryID: UInt64
    private var queuedCounts: [String: Int]
    private var queuedBySender: [SenderKey: Int] = [:]
    /// Accepted envelopes whose transaction has not finished yet, in the open batch or in
    /// the one being written.
    private var uncommitted: [EnvelopeKey: QueuedEnvelope] = [:]
    /// Delivery ids acknowledged whose deletion has not committed yet: `pending` leaves them
    /// out, so an acknowledged envelope is never delivered again by this process.
    private(set) var uncommittedDeletions: Set<UInt64> = []
    /// How many committed envelopes have each key hash. A key whose hash is absent is surely
    /// not on disk; a present one may be (or collide), and only then does `enqueue` look it up.
    private var committedKeyHashes: [Int: Int] = [:]
    private var openBatch: Batch?
    /// The signal of the newest batch; batches commit in order, so once it fires every
    /// envelope accepted before it was created is settled.
    private(set) var latestSignal: CommitSignal?
    private(set) var commitCount = 0
    /// Batches committed or failed so far: `enqueue` retries its duplicate check when this
    /// moved while it looked up committed envelopes.
    private(set) var settledBatchCount = 0
    var isClosed = false

    init(nextDeliveryID: UInt64, queuedKeys: [EnvelopeKey]) {
        self.nextDeliveryID = nextDeliveryID
        queuedCounts = [:]
        for key in queuedKeys {
            queuedCounts[key.recipient, default: 0] += 1
            queuedBySender[SenderKey(recipient: key.recipient, sender: key.sender), default: 0] += 1
            committedKeyHashes[key.hashValue, default: 0] += 1
        }
    }

    func queuedCount(for recipient: String) -> Int { queuedCounts[recipient] ?? 0 }

    func uncommittedEnvelope(matching key: EnvelopeKey) -> QueuedEnvelope? { uncommitted[key] }

    /// False when no committed envelope can have this key, so no lookup is needed.
    func mayBeCommitted(_ key: EnvelopeKey) -> Bool { committedKeyHashes[key.hashValue] != nil }

    /// Gives the envelope the next delivery id and a place in the open batch, unless the
    /// recipient's queue is full. The caller has checked it is no duplicate.
    mutating func accept(_ envelope: NewEnvelope, quota: QueueQuota) -> Acceptance {
        let queued = queuedCount(for: envelope.recipient)
        guard queued < quota.total else { return .quotaExceeded(quota: quota.total) }
        let senderKey = SenderKey(recipient: envelope.recipient, sender: envelope.sender)
        let fromSender = queuedBySender[senderKey] ?? 0
        guard fromSender < quota.perSender else { return .senderQuotaExceeded(quota: quota.perSender) }
        let stored = QueuedEnvelope(
            deliveryID: nextDeliveryID, sender: envelope.sender, recipient: envelope.recipient,
            clientMessageID: envelope.clientMessageID, acceptedAtMilliseconds: envelope.acceptedAtMilliseconds,
            envelope: envelope.envelope
        )
        nextDeliveryID += 1
        queuedCounts[envelope.recipient] = queued + 1
        queuedBySender[senderKey] = fromSender + 1
        uncommitted[EnvelopeKey(stored)] = stored
        let startsBatch = openBatch == nil
        if startsBatch { openNewBatch() }
        openBatch!.envelopes.append(stored)
        return .stored(stored, openBatch!.signal, startsBatch: startsBatch)
    }

    /// Adds deletions of acknowledged envelopes to the open batch; true when that opened it
    /// (the caller schedules its flush).
    mutating func requestDeletions(recipient: String, deliveryIDs: Set<UInt64>) -> Bool {
        let fresh = deliveryIDs.filter { uncommittedDeletions.insert($0).inserted }
        guard !fresh.isEmpty else { return false }
        let startsBatch = openBatch == nil
        if startsBatch { openNewBatch() }
        openBatch!.deletions.append(contentsOf: fresh.map { Deletion(recipient: recipient, deliveryID: $0) })
        return startsBatch
    }

    private mutating func openNewBatch() {
        let batch = Batch()
        latestSignal = batch.signal
        openBatch = batch
    }

    var hasOpenBatch: Bool { openBatch != nil }

    /// Takes the open batch for writing; what is accepted from now on starts a new one.
    mutating func takeOpenBatch() -> TakenBatch? {
        guard let batch = openBatch else { return nil }
        openBatch = nil
        return TakenBatch(
            envelopes: batch.envelopes, deletions: batch.deletions, signal: batch.signal,
            highestAssignedID: nextDeliveryID - 1
        )
    }

    /// Records the end of a batch's transaction, with the keys of the envelopes its deletions
    /// removed. The envelopes of a failed batch were never stored, so they no longer count
    /// against their recipients' quotas; their delivery ids stay used. The deletions of a
    /// failed batch are forgotten: those envelopes will be delivered again.
    mutating func finish(_ batch: TakenBatch, committed: Bool, deletedKeys: [EnvelopeKey]) {
        for envelope in batch.envelopes {
            let key = EnvelopeKey(envelope)
            uncommitted[key] = nil
            if committed {
                committedKeyHashes[key.hashValue, default: 0] += 1
            } else {
                removeQueued(key)
            }
        }
        for deletion in batch.deletions { uncommittedDeletions.remove(deletion.deliveryID) }
        removeCommitted(deletedKeys)
        if committed { commitCount += 1 }
        settledBatchCount += 1
    }

    /// Forgets envelopes deleted from disk (acknowledged or expired).
    mutating func removeCommitted(_ keys: [EnvelopeKey]) {
        for key in keys {
            removeQueued(key)
            let hash = key.hashValue
            if let count = committedKeyHashes[hash], count > 1 {
                committedKeyHashes[hash] = count - 1
            } else {
                committedKeyHashes[hash] = nil
            }
        }
    }

    private mutating func removeQueued(_ key: EnvelopeKey) {
        let remaining = queuedCount(for: key.recipient) - 1
        queuedCounts[key.recipient] = remaining > 0 ? remaining : nil
        let senderKey = SenderKey(recipient: key.recipient, sender: key.sender)
        let fromSender = (queuedBySender[senderKey] ?? 0) - 1
        queuedBySender[senderKey] = fromSender > 0 ? fromSender : nil
    }
}

extension GroupCommitState.EnvelopeKey {
    init(_ envelope: NewEnvelope) {
        self.init(recipient: envelope.recipient, sender: envelope.sender, clientMessageID: envelope.clientMessageID)
    }

    init(_ envelope: QueuedEnvelope) {
        self.init(recipient: envelope.recipient, sender: envelope.sender, clientMessageID: envelope.clientMessageID)
    }
}
