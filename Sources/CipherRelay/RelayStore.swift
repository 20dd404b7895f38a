import CipherCore

/// What the relay keeps, behind small per-concern protocols so that SQLite (one instance) and
/// PostgreSQL (several) can stand behind the same relay logic. Every value here is either
/// public (identities, prekeys) or opaque ciphertext: no store holds a key that opens a message.

/// A registered user: the username is bound to one identity forever.
public struct StoredAccount: Sendable, Hashable {
    public let username: String
    /// A `PublicIdentity` encoding (PROTOCOL.md 4.1).
    public let identity: [UInt8]
    public let registeredAtMilliseconds: UInt64

    public init(username: String, identity: [UInt8], registeredAtMilliseconds: UInt64) {
        self.username = username
        self.identity = identity
        self.registeredAtMilliseconds = registeredAtMilliseconds
    }
}

public enum AccountCreation: Sendable, Hashable {
    case created
    /// The name was registered before, to the identity given here.
    case exists(StoredAccount)
}

public protocol AccountStore: Sendable {
    /// Creates the account unless the name exists; atomic, so two registrations of one name
    /// cannot both succeed.
    func createAccount(_ account: StoredAccount) async throws -> AccountCreation
    func account(named username: String) async throws -> StoredAccount?
}

/// The public prekey records of one user, as published (`SignedPrekey` and `PostQuantumPrekey`
/// encodings), with one one-time prekey if any was left.
public struct StoredBundle: Sendable, Hashable {
    public let signedPrekey: [UInt8]
    public let postQuantumPrekey: [UInt8]
    public let oneTimePrekey: [UInt8]?

    public init(signedPrekey: [UInt8], postQuantumPrekey: [UInt8], oneTimePrekey: [UInt8]?) {
        self.signedPrekey = signedPrekey
        self.postQuantumPrekey = postQuantumPrekey
        self.oneTimePrekey = oneTimePrekey
    }
}

public protocol PrekeyStore: Sendable {
    /// Replaces the user's signed prekey, post-quantum prekey, or both.
    func publishPrekeys(username: String, signedPrekey: [UInt8]?, postQuantumPrekey: [UInt8]?) async throws
    /// Adds one-time prekeys (`OneTimePrekey` encodings keyed by id; an id already stored is
    /// kept as it was) and returns how many the user now has.
    func addOneTimePrekeys(username: String, prekeys: [(id: UInt32, encoded: [UInt8])]) async throws -> Int
    /// The user's bundle, removing the one-time prekey it hands out (the lowest id first),
    /// atomically: each one-time prekey is handed out at most once. Nil when the user has published no signed prekeys.
    func takeBundle(username: String) async throws -> StoredBundle?
    func oneTimePrekeyCount(username: String) async throws -> Int
}

/// An envelope waiting for its recipient.
public struct QueuedEnvelope: Sendable, Hashable {
    public let deliveryID: UInt64
    public let sender: String
    public let recipient: String
    public let clientMessageID: [UInt8]
    public let acceptedAtMilliseconds: UInt64
    public let envelope: [UInt8]

    public init(deliveryID: UInt64, sender: String, recipient: String, clientMessageID: [UInt8],
                acceptedAtMilliseconds: UInt64, envelope: [UInt8]) {
        self.deliveryID = deliveryID
        self.sender = sender
        self.recipient = recipient
        self.clientMessageID = clientMessageID
        self.acceptedAtMilliseconds = acceptedAtMilliseconds
        self.envelope = envelope
    }
}

public struct NewEnvelope: Sendable, Hashable {
    public let sender: String
    public let recipient: String
    public let clientMessageID: [UInt8]
    public let acceptedAtMilliseconds: UInt64
    public let envelope: [UInt8]

    public init(sender: String, recipient: String, clientMessageID: [UInt8], acceptedAtMilliseconds: UInt64, envelope: [UInt8]) {
        self.sender = sender
        self.recipient = recipient
        self.clientMessageID = clientMessageID
        self.acceptedAtMilliseconds = acceptedAtMilliseconds
        self.envelope = envelope
    }
}

public enum EnqueueResult: Sendable, Hashable {
    /// Given this delivery id, in order after every envelope enqueued before it.
    case stored(QueuedEnvelope)
    /// Stored before under (sender, client message id), and not yet acknowledged.
    case duplicate(QueuedEnvelope)
    /// The recipient's queue holds `quota` envelopes already.
    case quotaExceeded(quota: Int)
    /// The recipient's queue holds `quota` envelopes from this sender already: its share.
    case senderQuotaExceeded(quota: Int)
}

/// How many envelopes a recipient's queue may hold: in all, and from one sender (a user, or a
/// room for its members' copies), so that one sender cannot fill a queue and keep everyone
/// else from reaching its owner (SECURITY.md 12).
public struct QueueQuota: Sendable, Hashable, ExpressibleByIntegerLiteral {
    public let total: Int
    public let perSender: Int

    public init(total: Int, perSender: Int) {
        self.total = total
        self.perSender = min(perSender, total)
    }

    /// A quota with no separate share: one sender may fill it all.
    public init(integerLiteral total: Int) {
        self.init(total: total, perSender: total)
    }
}

/// The outcome of `enqueue`, known as soon as the envelope has its place in the queue, and a
/// way to learn when that place is on disk. The relay pushes the envelope to an online
/// recipient at once and acknowledges the sender only once it is durable.
public struct EnqueueTicket: Sendable {
    public typealias Completion = @Sendable (Result<Void, any Error>) -> Void
    public let result: EnqueueResult
    private let notify: @Sendable (@escaping Completion) -> Void

    /// For stores whose commit is awaited: `waitForCommit` returns once it is durable.
    public init(result: EnqueueResult, waitForCommit: @escaping @Sendable () async throws -> Void) {
        self.result = result
        notify = { completion in
            Task { completion(await Result(catching: { try await waitForCommit() })) }
        }
    }

    /// For stores that call back when their commit finishes: `notifyWhenDurable` calls the
    /// completion it is given exactly once, with the commit's outcome. No task is made per
    /// envelope, which matters on a relay's per-message path.
    public init(result: EnqueueResult, notifyWhenDurable: @escaping @Sendable (@escaping Completion) -> Void) {
        self.result = result
        notify = notifyWhenDurable
    }

    /// Calls `completion` once the commit holding this envelope is durable (at once for a
    /// duplicate already on disk), or with the error that kept it from being stored.
    public func whenDurable(_ completion: @escaping Completion) {
        notify(completion)
    }

    /// Returns once the commit holding this envelope is durable.
    public func durable() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            notify { continuation.resume(with: $0) }
        }
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}

public protocol QueueStore: Sendable {
    /// Places the envelope in the recipient's queue. Calls made one after another from one
    /// task keep their order. Implementations batch the commits of concurrent calls (group
    /// commit); `EnqueueTicket.durable()` waits for the commit.
    func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) async throws -> EnqueueTicket
    /// The recipient's envelopes in delivery-id order, after `afterID`, at most `limit`.
    func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope]
    /// Deletes acknowledged envelopes; ids that are not the recipient's are ignored.
    func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws
    /// Starts deleting acknowledged envelopes without waiting for the deletion to be durable:
    /// a lost deletion only repeats a delivery, which the recipient drops by message id. From
    /// the call on, `pending` leaves them out. The relay calls this on its per-message path.
    func acknowledgeWithoutWaiting(recipient: String, deliveryIDs: [UInt64]) throws
    /// Deletes envelopes accepted before `cutoff`; returns how many.
    func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int
    func queuedCount(for recipient: String) async throws -> Int
}

extension QueueStore {
    /// For stores without a cheaper way: deletes in a task of its own.
    public func acknowledgeWithoutWaiting(recipient: String, deliveryIDs: [UInt64]) throws {
        Task { try await acknowledge(recipient: recipient, deliveryIDs: deliveryIDs) }
    }
}

public enum RoomAppendResult: Sendable, Hashable {
    case appended
    /// The room's last statement is not at `epoch - 1`: another change came first.
    case conflict(currentEpoch: UInt64)
}

/// Rooms as the relay believes them (PROTOCOL.md 13.4): each room's membership statements, in
/// epoch order, and the members they leave, which the relay fans room messages out to. The
/// statements are public and signed; clients check them and do not take the relay's word.
public protocol RoomStore: Sendable {
    /// Records `statement` as the room's statement at `epoch` and replaces the room's member
    /// list with `members`, atomically, only if the room's last statement is at `epoch - 1`
    /// (a room with no statement is at 0): two concurrent changes cannot both be appended.
    func appendRoomStatement(room: String, epoch: UInt64, statement: [UInt8], members: [String]) async throws -> RoomAppendResult
    /// The room's statements in epoch order; empty for a room that does not exist.
    func roomStatements(room: String) async throws -> [[UInt8]]
    /// The room's members as last recorded, sorted; empty for a room that does not exist.
    func roomMembers(room: String) async throws -> [String]
    /// The rooms `username` is a member of, sorted.
    func rooms(of username: String) async throws -> [String]
}

/// Everything the relay stores.
public protocol RelayStore: AccountStore, PrekeyStore, QueueStore, QueueStatistics, RoomStore, BlobStore {
    func close() async throws
}
