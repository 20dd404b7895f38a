/// A `RelayStore` in memory: for tests and for running the relay logic without a disk. It
/// follows the same contract as the durable stores (the shared contract tests run against it),
/// with "durable" meaning merely "stored".
public actor InMemoryRelayStore: RelayStore {
    private var accounts: [String: StoredAccount] = [:]
    private var signedPrekeys: [String: [UInt8]] = [:]
    private var postQuantumPrekeys: [String: [UInt8]] = [:]
    private var oneTimePrekeys: [String: [(id: UInt32, encoded: [UInt8])]] = [:]
    private var queues: [String: [QueuedEnvelope]] = [:]
    private var nextDeliveryID: UInt64 = 1
    private var roomStatementLog: [String: [[UInt8]]] = [:]
    private var roomMemberLists: [String: [String]] = [:]
    /// Blob metadata by id (`InMemoryRelayStore+Blobs.swift`).
    var blobs: [[UInt8]: StoredBlob] = [:]

    public init() {}

    public func createAccount(_ account: StoredAccount) -> AccountCreation {
        if let existing = accounts[account.username] { return .exists(existing) }
        accounts[account.username] = account
        return .created
    }

    public func account(named username: String) -> StoredAccount? { accounts[username] }

    public func publishPrekeys(username: String, signedPrekey: [UInt8]?, postQuantumPrekey: [UInt8]?) {
        if let signedPrekey { signedPrekeys[username] = signedPrekey }
        if let postQuantumPrekey { postQuantumPrekeys[username] = postQuantumPrekey }
    }

    public func addOneTimePrekeys(username: String, prekeys: [(id: UInt32, encoded: [UInt8])]) -> Int {
        var existing = oneTimePrekeys[username] ?? []
        let known = Set(existing.map(\.id))
        var added = Set<UInt32>()
        for prekey in prekeys where !known.contains(prekey.id) && added.insert(prekey.id).inserted {
            existing.append(prekey)
        }
        oneTimePrekeys[username] = existing
        return existing.count
    }

    public func takeBundle(username: String) -> StoredBundle? {
        guard let signed = signedPrekeys[username], let postQuantum = postQuantumPrekeys[username] else { return nil }
        var oneTime: [UInt8]?
        if var available = oneTimePrekeys[username], let lowest = available.indices.min(by: { available[$0].id < available[$1].id }) {
            oneTime = available.remove(at: lowest).encoded
            oneTimePrekeys[username] = available
        }
        return StoredBundle(signedPrekey: signed, postQuantumPrekey: postQuantum, oneTimePrekey: oneTime)
    }

    public func oneTimePrekeyCount(username: String) -> Int { oneTimePrekeys[username]?.count ?? 0 }

    public func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) -> EnqueueTicket {
        let queue = queues[envelope.recipient] ?? []
        if let existing = queue.first(where: { $0.sender == envelope.sender && $0.clientMessageID == envelope.clientMessageID }) {
            return EnqueueTicket(result: .duplicate(existing)) {}
        }
        guard queue.count < quota.total else { return EnqueueTicket(result: .quotaExceeded(quota: quota.total)) {} }
        guard queue.count(where: { $0.sender == envelope.sender }) < quota.perSender else {
            return EnqueueTicket(result: .senderQuotaExceeded(quota: quota.perSender)) {}
        }
        let stored = QueuedEnvelope(
            deliveryID: nextDeliveryID, sender: envelope.sender, recipient: envelope.recipient,
            clientMessageID: envelope.clientMessageID, acceptedAtMilliseconds: envelope.acceptedAtMilliseconds,
            envelope: envelope.envelope
        )
        nextDeliveryID += 1
        queues[envelope.recipient, default: []].append(stored)
        return EnqueueTicket(result: .stored(stored)) {}
    }

    public func pending(for recipient: String, after afterID: UInt64, limit: Int) -> [QueuedEnvelope] {
        Array((queues[recipient] ?? []).lazy.filter { $0.deliveryID > afterID }.prefix(limit))
    }

    public func acknowledge(recipient: String, deliveryIDs: [UInt64]) {
        let acknowledged = Set(deliveryIDs)
        queues[recipient]?.removeAll { acknowledged.contains($0.deliveryID) }
    }

    public func expire(acceptedBefore cutoffMilliseconds: UInt64) -> Int {
        var removed = 0
        for recipient in queues.keys {
            let before = queues[recipient]!.count
            queues[recipient]!.removeAll { $0.acceptedAtMilliseconds < cutoffMilliseconds }
            removed += before - queues[recipient]!.count
        }
        return removed
    }

    public func queuedCount(for recipient: String) -> Int { queues[recipient]?.count ?? 0 }

    public func appendRoomStatement(room: String, epoch: UInt64, statement: [UInt8], members: [String]) -> RoomAppendResult {
        let current = UInt64(roomStatementLog[room]?.count ?? 0)
        guard epoch == current + 1 else { return .conflict(currentEpoch: current) }
        roomStatementLog[room, default: []].append(statement)
        roomMemberLists[room] = Array(Set(members)).sorted()
        return .appended
    }

    public func roomStatements(room: String) -> [[UInt8]] { roomStatementLog[room] ?? [] }

    public func roomMembers(room: String) -> [String] { roomMemberLists[room] ?? [] }

    public func rooms(of username: String) -> [String] {
        roomMemberLists.filter { $0.value.contains(username) }.keys.sorted()
    }

    public func close() {}
}

extension InMemoryRelayStore {
    public func totalQueuedEnvelopes() -> Int {
        queues.values.reduce(0) { $0 + $1.count }
    }
}
