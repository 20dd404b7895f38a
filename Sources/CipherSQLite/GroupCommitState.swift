import CipherRelay

/// The queue's bookkeeping kept in memory, so that `enqueue` decides an envelope's fate and
/// delivery id at once, without waiting for a write: the next delivery id, the number of
/// envelopes queued per recipient (committed or not), and the envelopes accepted but not yet
/// committed. Pure state, changed only under the store's lock; the store does the I/O.
struct GroupCommitState {
    /// Envelopes accepted since the last batch was taken for writing; its flush is scheduled.
    struct Batch {
        var envelopes: [QueuedEnvelope] = []
        let signal = CommitSignal()
    }

    /// A batch taken for writing, with the highest delivery id handed out so far (which the
    /// write reserves in the database; see `SQLiteRelayStore.deliveryIDReserve`).
    struct TakenBatch {
        let envelopes: [QueuedEnvelope]
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
    }

    private(set) var nextDeliveryID: UInt64
    private var queuedCounts: [String: Int]
    /// Accepted envelopes whose transaction has not finished yet, in the open batch or in
    /// the one being written.
    private var uncommitted: [EnvelopeKey: QueuedEnvelope] = [:]
    private var openBatch: Batch?
    /// The signal of the newest batch; batches commit in order, so once it fires every
    /// envelope accepted before it was created is settled.
    private(set) var latestSignal: CommitSignal?
    private(set) var commitCount = 0
    /// Batches committed or failed so far: `enqueue` retries its duplicate check when this
    /// moved while it looked up committed envelopes.
    private(set) var settledBatchCount = 0
    var isClosed = false

    init(nextDeliveryID: UInt64, queuedCounts: [String: Int]) {
        self.nextDeliveryID = nextDeliveryID
        self.queuedCounts = queuedCounts
    }

    func queuedCount(for recipient: String) -> Int { queuedCounts[recipient] ?? 0 }

    func uncommittedEnvelope(matching key: EnvelopeKey) -> QueuedEnvelope? { uncommitted[key] }

    /// Gives the envelope the next delivery id and a place in the open batch, unless the
    /// recipient's queue is full. The caller has checked it is no duplicate.
    mutating func accept(_ envelope: NewEnvelope, quota: Int) -> Acceptance {
        let queued = queuedCount(for: envelope.recipient)
        guard queued < quota else { return .quotaExceeded(quota: quota) }
        let stored = QueuedEnvelope(
            deliveryID: nextDeliveryID, sender: envelope.sender, recipient: envelope.recipient,
            clientMessageID: envelope.clientMessageID, acceptedAtMilliseconds: envelope.acceptedAtMilliseconds,
            envelope: envelope.envelope
        )
        nextDeliveryID += 1
        queuedCounts[envelope.recipient] = queued + 1
        uncommitted[EnvelopeKey(stored)] = stored
        let startsBatch = openBatch == nil
        var batch = openBatch ?? Batch()
        if startsBatch { latestSignal = batch.signal }
        batch.envelopes.append(stored)
        openBatch = batch
        return .stored(stored, batch.signal, startsBatch: startsBatch)
    }

    /// Takes the open batch for writing; envelopes accepted from now on start a new one.
    var hasOpenBatch: Bool { openBatch != nil }

    mutating func takeOpenBatch() -> TakenBatch? {
        guard let batch = openBatch else { return nil }
        openBatch = nil
        return TakenBatch(envelopes: batch.envelopes, signal: batch.signal, highestAssignedID: nextDeliveryID - 1)
    }

    /// Records the end of a batch's transaction. The envelopes of a failed batch were never
    /// stored, so they no longer count against their recipients' quotas; their delivery ids
    /// stay used.
    mutating func finish(_ batch: TakenBatch, committed: Bool) {
        for envelope in batch.envelopes {
            uncommitted[EnvelopeKey(envelope)] = nil
            if !committed { removeQueued(1, for: envelope.recipient) }
        }
        if committed { commitCount += 1 }
        settledBatchCount += 1
    }

    mutating func removeQueued(_ count: Int, for recipient: String) {
        guard count > 0 else { return }
        let remaining = queuedCount(for: recipient) - count
        queuedCounts[recipient] = remaining > 0 ? remaining : nil
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
