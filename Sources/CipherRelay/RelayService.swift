import CipherCore
import Synchronization

/// The relay's shared state: the store, the limits, the online users and the logs. Each
/// connection is a `RelayConnection` made by `connect(address:)`.
public final class RelayService: Sendable {
    public let store: any RelayStore
    public let configuration: RelayConfiguration
    public let registry = ConnectionRegistry()
    public let securityLog: any SecurityLog
    /// Where uploaded files' encrypted chunks live (PROTOCOL.md 12.8).
    public let blobChunks: any BlobChunkStorage
    /// Where counts for monitoring go.
    public let observer: any RelayObserver
    let clock: any RelayClock
    let random: any RandomSource
    /// SHA-256 of the relay's TLS certificate: bound into every authentication signature.
    let certificateHash: [UInt8]
    /// Each room's membership as this relay checked it (`RelayConnection+Rooms.swift`).
    let roomMemberships = RoomMemberships()

    public init(
        store: any RelayStore, configuration: RelayConfiguration, securityLog: any SecurityLog,
        clock: any RelayClock, random: any RandomSource, certificateHash: [UInt8],
        observer: any RelayObserver = SilentRelayObserver(),
        blobChunks: any BlobChunkStorage = InMemoryBlobChunks()
    ) {
        self.blobChunks = blobChunks
        self.store = store
        self.observer = observer
        self.configuration = configuration
        self.securityLog = securityLog
        self.clock = clock
        self.random = random
        self.certificateHash = certificateHash
    }

    /// Names known to be registered. Accounts are never deleted, so a name once seen stays
    /// valid, and a send need not ask the store again (it did, once per message).
    private let knownAccounts = Mutex<Set<String>>([])

    /// Whether `username` is a registered account, asking the store only for a name not seen.
    func accountExists(_ username: String) async throws -> Bool {
        if knownAccounts.withLock({ $0.contains(username) }) { return true }
        guard try await store.account(named: username) != nil else { return false }
        knownAccounts.withLock { _ = $0.insert(username) }
        return true
    }

    /// A new connection from `address`, whose actor runs on `executor` and whose frames go to
    /// `sink`; its first frame is the challenge.
    public func connect(address: String, sink: any RelayFrameSink, executor: any SerialExecutor) -> RelayConnection {
        RelayConnection(
            service: self, address: address, nonce: random.bytes(RelayAuthentication.nonceSize), sink: sink,
            executor: executor
        )
    }

    /// Pushes a queued envelope to every connection of its recipient.
    func push(_ envelope: QueuedEnvelope) async {
        for connection in registry.connections(of: envelope.recipient) {
            await connection.push(envelope)
        }
    }

    /// Prompts the connections of `username` here to send what the stored queue holds for
    /// them and they have not sent: another instance queued it. With `queuedCount` (from a
    /// poll), connections that have that many deliveries in flight already skip the read.
    func deliverQueued(to username: String, queuedCount: Int? = nil) async {
        for connection in registry.connections(of: username) {
            await connection.deliverQueued(queuedCount: queuedCount)
        }
    }

    func notifyPrekeysLow(username: String, remaining: Int) async {
        for connection in registry.connections(of: username) {
            await connection.notifyPrekeysLow(remaining: remaining)
        }
    }

    /// Deletes envelopes past their time to live; returns how many.
    public func expireQueues() async throws -> Int {
        let ttl = configuration.queueTTLSeconds * 1000
        let now = clock.wallMilliseconds
        let expired = try await store.expire(acceptedBefore: now > ttl ? now - ttl : 0)
        if expired > 0 { observer.envelopesExpired(count: expired) }
        return expired
    }

    /// Set by `announceShutdown`: a client that logs in after it is told at once to go away.
    private let shuttingDown = Atomic<Bool>(false)

    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    /// Tells every connected client the relay is going away, so they reconnect elsewhere.
    public func announceShutdown() async {
        shuttingDown.store(true, ordering: .relaxed)
        for connection in registry.all() {
            await connection.goAway()
        }
    }
}
