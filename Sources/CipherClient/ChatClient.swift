import CipherCore
import CipherNIO
import CipherWire
import Foundation
import Logging

/// The client library: one user's identity, contacts and sessions, kept in the sealed local
/// store, and a connection to the relay that reconnects by itself (exponential backoff with
/// jitter) and resends what the relay has not acknowledged.
public actor ChatClient {
    public nonisolated let username: String
    public nonisolated let identity: PrivateIdentity
    public nonisolated let endpoint: ServerEndpoint
    public nonisolated let events: AsyncStream<ClientEvent>
    let eventSink: AsyncStream<ClientEvent>.Continuation
    let store: ClientStore
    let trust: RelayTLS.ServerTrust
    let random = SystemRandomSource()
    let logger: Logger
    var link: RelayLink?
    var linkWaiters: [CheckedContinuation<RelayLink, any Error>] = []
    var connectionTask: Task<Void, Never>?
    var stopped = false
    /// How many one-time prekeys the relay said it holds for this user.
    var relayOneTimePrekeyCount = Int.max
    /// Pinned identities already parsed and verified, by their hex encoding: checking a
    /// contact's certificate is an RSA verification, needed once per process, not per message.
    var verifiedIdentities: [String: PublicIdentity] = [:]
    /// Whether this client takes deliveries; one that only sends leaves them with the relay.
    var receiving = true
    /// Deliveries stored but not yet acknowledged: they are acknowledged together once a
    /// disk sync has made them durable (see `ChatClient+Receiving.swift`).
    var pendingAcknowledgements: [UInt64] = []
    var acknowledgementLink: RelayLink?
    /// Room state changes one at a time (ChatClient+RoomLock.swift).
    let roomLock = RoomLock()
    /// The task acknowledging a batch, which `stop` waits for: without it a client stopping
    /// right after a delivery (`recv`) closed the link before the acknowledgement left, and the
    /// message came again at the next login.
    var acknowledgementInFlight: Task<Void, Never>?
    /// The resend of the outbox that the newest connection started, which `stop` waits for:
    /// every command that connects sends what earlier ones left, not only `recv` and `chat`.
    /// Its value is the relay's `CODE_STORE_UNAVAILABLE` when that stopped it.
    var outboxResend: Task<RelayError?, Never>?
    /// Sends started while a delivery was handled (decryption-failure notices and what they
    /// ask for), which `stop` waits for like the outbox resend.
    var backgroundSends: [UUID: Task<Void, Never>] = [:]

    /// How many one-time prekeys to keep published.
    static let oneTimePrekeyBatch = 100
    /// At most one batch of one-time prekeys a minute, and at most this many private halves
    /// kept (ChatClient+Prekeys.swift).
    static let oneTimePrekeyTopUpSeconds: UInt64 = 60
    static let maxStoredOneTimePrekeys = 1_000
    /// Signed prekeys rotate weekly; an old one is kept a month for messages still in flight.
    static let signedPrekeyRotationSeconds: UInt64 = 7 * 86_400
    static let signedPrekeyGraceSeconds: UInt64 = 30 * 86_400

    init(store: ClientStore, identity: PrivateIdentity, username: String, endpoint: ServerEndpoint,
         trust: RelayTLS.ServerTrust, logger: Logger) {
        self.store = store
        self.identity = identity
        self.username = username
        self.endpoint = endpoint
        self.trust = trust
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: ClientEvent.self)
    }

    /// Makes a new identity in `home`, registers `username` with the relay and publishes prekeys.
    public static func create(
        home: String, passphrase: String, endpoint: ServerEndpoint, username: String, trust: RelayTLS.ServerTrust,
        keySize: PrivateIdentity.KeySize = .bits2048, kdf: PassphraseKDF = .defaultScrypt,
        logger: Logger = Logger(label: "cipherchat.client"), command: String = "cipherchat init",
        progress: @Sendable (InitStep) -> Void = { _ in }
    ) async throws -> ChatClient {
        guard Username.isValid(username) else { throw ClientError.invalidUsername(username) }
        let ownership = try HomeOwnership.acquire(home: home, command: command)
        // Check the relay is reachable and trusted before anything is written.
        progress(.connecting(endpoint))
        let probe = try await connectLink(endpoint: endpoint, trust: trust)
        progress(.generatingIdentity(bits: keySize.rawValue))
        let identity = try PrivateIdentity.generate(keySize: keySize)
        progress(.sealingStore)
        let store = try ClientStore.create(ownership: ownership, passphrase: passphrase, settings: [
            "username": username,
            "server": endpoint.description,
            "trust": trust.settingValue,
            "trust_policy": TrustPolicy.trustOnFirstUse.rawValue,
        ], kdf: kdf)
        var changes = StoreChanges()
        changes.put("identity", "self", identity.serialized())
        try store.commit(changes)
        let client = ChatClient(store: store, identity: identity, username: username, endpoint: endpoint, trust: trust, logger: logger)
        do {
            progress(.registering(username: username))
            _ = try await probe.authenticate(.register, username: username, identity: identity)
            progress(.publishingPrekeys)
            try await client.publishInitialPrekeys(on: probe)
        } catch {
            // Leave no half-made identity behind: a retry with another name must be possible.
            await probe.close()
            for suffix in ["", "-wal", "-shm"] {
                try? FileManager.default.removeItem(atPath: (home as NSString).appendingPathComponent(ClientStore.fileName + suffix))
            }
            throw error
        }
        await probe.close()
        return client
    }

    /// Opens the identity in `home`, as its owner: waits up to `ownerWait` seconds for another
    /// process that owns the home to let go (HomeOwnership), and holds the home until this
    /// client is released. `command` names this process to others that find the home owned.
    public static func open(
        home: String, passphrase: String, logger: Logger = Logger(label: "cipherchat.client"),
        command: String = "cipherchat", ownerWait: Double = 0
    ) throws -> ChatClient {
        let ownership = try HomeOwnership.acquire(home: home, command: command, wait: ownerWait)
        let store = try ClientStore.open(ownership: ownership, passphrase: passphrase)
        try store.startRecvCursorIfAbsent()
        guard let username = try store.setting("username"), let server = try store.setting("server"),
              let trustValue = try store.setting("trust"), let trust = RelayTLS.ServerTrust(settingValue: trustValue),
              let identityBytes = try store.item("identity", "self") else {
            throw ClientError.storeCorrupted
        }
        return ChatClient(
            store: store, identity: try PrivateIdentity(serialized: identityBytes), username: username,
            endpoint: try ServerEndpoint(server), trust: trust, logger: logger
        )
    }

    /// Stops, closes the store and lets go of the home, so that another process (or another
    /// `ChatClient` of this one) can own it. This client cannot be used afterwards.
    public func close() async {
        await stop()
        store.close()
    }

    public nonisolated var fingerprint: Fingerprint { identity.publicIdentity.fingerprint }

    public var trustPolicy: TrustPolicy {
        get throws { try store.setting("trust_policy").flatMap(TrustPolicy.init(rawValue:)) ?? .trustOnFirstUse }
    }

    public func setTrustPolicy(_ policy: TrustPolicy) throws {
        try store.setSetting("trust_policy", policy.rawValue)
    }

    // MARK: Connection

    static func connectLink(endpoint: ServerEndpoint, trust: RelayTLS.ServerTrust) async throws -> RelayLink {
        do {
            return try await RelayLink.connect(host: endpoint.host, port: endpoint.port, trust: trust)
        } catch RelayLink.ConnectError.certificateMismatch {
            throw ClientError.serverCertificateChanged
        } catch {
            throw RelayUnreachable(connecting: error, host: endpoint.host, port: endpoint.port) ?? error
        }
    }

    /// Starts keeping a connection to the relay; returns once the first login succeeded.
    /// With `receiving` false, deliveries are neither processed nor acknowledged: they stay
    /// queued at the relay for the next client that reads (a `send` must not swallow them).
    public func start(receiving: Bool = true) async throws {
        guard connectionTask == nil else { return }
        self.receiving = receiving
        stopped = false
        let first = try await login()
        install(first)
        connectionTask = Task { await self.maintain(first) }
    }

    /// Like `start`, but a relay out of reach is no failure: the connection is then made in the
    /// background, with the backoff of a reconnect, and what needs the relay (a send) waits for
    /// it. Returns why the relay could not be reached, or nil when the login succeeded. Other
    /// failures (a changed certificate, a refused login) are thrown as `start` throws them.
    public func startAllowingOffline(receiving: Bool = true) async throws -> RelayUnreachable? {
        guard connectionTask == nil else { return nil }
        self.receiving = receiving
        stopped = false
        do {
            let first = try await login()
            install(first)
            connectionTask = Task { await self.maintain(first) }
            return nil
        } catch let unreachable as RelayUnreachable {
            connectionTask = Task { await self.maintain(nil) }
            return unreachable
        }
    }

    /// Closes the connection and stops reconnecting. A delivery being handled is finished
    /// first, so its message reaches `events` before the stream ends.
    public func stop() async {
        stopped = true
        // Stopped first: a resend waiting for a new connection gives up, one on this
        // connection finishes.
        _ = await outboxResend?.value
        while let (id, send) = backgroundSends.first {
            await send.value
            backgroundSends[id] = nil
        }
        await acknowledgementInFlight?.value
        await acknowledgeStored()
        await link?.close()
        link = nil
        for waiter in linkWaiters { waiter.resume(throwing: CancellationError()) }
        linkWaiters.removeAll()
        if let task = connectionTask {
            connectionTask = nil
            task.cancel()
            await task.value
        }
        eventSink.finish()
    }

    private func login() async throws -> RelayLink {
        let newLink = try await Self.connectLink(endpoint: endpoint, trust: trust)
        do {
            let welcome = try await newLink.authenticate(.login, username: username, identity: identity)
            relayOneTimePrekeyCount = Int(welcome.oneTimePrekeysRemaining)
            logger.debug("logged in", metadata: ["relay": "\(endpoint)", "queued": "\(welcome.queued)"])
            eventSink.yield(.connected(queued: Int(welcome.queued)))
            return newLink
        } catch {
            await newLink.close()
            throw error
        }
    }

    /// Makes `newLink` the current connection and starts resending the outbox on it, before
    /// anything else can run on this actor: `stop` and `outboxSent` then find the resend.
    private func install(_ newLink: RelayLink) {
        link = newLink
        outboxResend = Task { await self.resendOutbox(on: newLink) }
        for waiter in linkWaiters { waiter.resume(returning: newLink) }
        linkWaiters.removeAll()
    }

    /// The current connection, waiting for the next one when there is none.
    func currentLink() async throws -> RelayLink {
        if let link { return link }
        if stopped { throw CancellationError() }
        return try await withCheckedThrowingContinuation { linkWaiters.append($0) }
    }

    /// Serves one connection after another until stopped; with no `first`, connects first.
    private func maintain(_ first: RelayLink?) async {
        var current: RelayLink? = first
        var attempt = 0
        while !stopped, !Task.isCancelled {
            if let active = current {
                attempt = 0
                await serve(active)
                if link === active { link = nil }
                current = nil
            }
            guard !stopped else { break }
            let delay = Self.backoff(attempt: attempt)
            eventSink.yield(.disconnected(retryInSeconds: delay))
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            // Stopped while waiting: no connection attempt that nobody will use.
            guard !stopped, !Task.isCancelled else { break }
            attempt += 1
            do {
                let next = try await login()
                guard !stopped else {
                    await next.close()
                    break
                }
                install(next)
                current = next
            } catch {
                logger.debug("reconnect failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// A ceiling of 0.25 s doubling to 30 s, with full jitter (a uniform draw below the
    /// ceiling, at least 50 ms): clients reconnecting after a restart do not stampede.
    static func backoff(attempt: Int) -> Double {
        let ceiling = min(30, 0.25 * pow(2, Double(min(attempt, 10))))
        return max(0.05, Double.random(in: 0...ceiling))
    }

    /// Handles one connection's events until it closes.
    private func serve(_ active: RelayLink) async {
        Task { await self.maintainPrekeys(on: active) }
        for await event in active.events {
            switch event {
            case .delivery(let delivery):
                if receiving { await handle(delivery, on: active) }
            case .prekeysLow(let remaining):
                relayOneTimePrekeyCount = remaining
                await maintainPrekeys(on: active)
            case .goingAway:
                await active.close()
            case .closed:
                break
            }
        }
    }
}
