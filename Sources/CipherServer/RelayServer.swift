import CipherCore
import CipherNIO
import CipherRelay
import CipherWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// The relay over the network: TLS 1.3, length-prefixed frames, one `RelayConnection` per
/// client. All protocol decisions are made in CipherRelay; this wires sockets to them.
public final class RelayServer: Sendable {
    public let service: RelayService
    public let tlsIdentity: TLSIdentity
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let serverChannel: any Channel
    private let connections: RelayChannelContext
    /// Where the relay listens; with port 0 this holds the port the system chose.
    public let localAddress: SocketAddress
    /// Set once `shutdown()` has begun: `/readyz` then answers 503.
    private let draining = Atomic<Bool>(false)
    /// When the stop that `shutdown()` began must be over, the store closed included.
    private let stopDeadlineValue = Mutex<ContinuousClock.Instant?>(nil)
    /// The end of the grace period kept for closing the store: clients get the rest.
    static let storeCloseReserve = Duration.seconds(1)

    /// Binds the listening socket; `run()` then serves until `shutdown()`.
    public init(
        configuration: ServerConfiguration, store: any RelayStore, securityLog: any SecurityLog,
        logger: Logger, observer: any RelayObserver = SilentRelayObserver(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        self.configuration = configuration
        self.logger = logger
        if let certificate = configuration.tlsCertificateFile, let key = configuration.tlsKeyFile {
            tlsIdentity = try TLSIdentity(certificatePEMFile: certificate, privateKeyPEMFile: key)
        } else {
            tlsIdentity = try TLSIdentity.selfSigned(inDirectory: configuration.dataDirectory)
        }
        service = RelayService(
            store: store, configuration: configuration.relay, securityLog: securityLog,
            clock: SystemRelayClock(), random: SystemRandomSource(), certificateHash: tlsIdentity.certificateHash,
            observer: observer,
            blobChunks: try FileSystemBlobChunks(directory: configuration.blobDirectory ?? "\(configuration.dataDirectory)/blobs")
        )
        let sslContext = try RelayTLS.serverContext(identity: tlsIdentity)
        let relay = configuration.relay
        let shared = RelayChannelContext(
            service: service, limiter: ConnectionLimiter(configuration: relay),
            authenticationTimeout: .seconds(Int64(relay.authenticationTimeoutSeconds)), logger: logger,
            taskExecutors: EventLoopTaskExecutor.perLoop(of: group), open: OpenChannels()
        )
        connections = shared
        serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let proxies = configuration.proxyProtocolSources
                    guard proxies.contains(where: { $0.contains(channel.remoteAddress) }) else {
                        return try Self.addRelayHandlers(to: channel, clientAddress: nil, shared: shared, sslContext: sslContext)
                    }
                    let header = ProxyHeaderHandler(timeout: shared.authenticationTimeout, securityLog: shared.service.securityLog) {
                        channel, client in
                        try Self.addRelayHandlers(to: channel, clientAddress: client, shared: shared, sslContext: sslContext)
                    }
                    try channel.pipeline.syncOperations.addHandler(header)
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        localAddress = serverChannel.localAddress!
    }

    /// TLS, the stall timeout, framing and the relay's handler, for a client at `clientAddress`
    /// (the connection's peer when nil; the address a balancer's PROXY header names otherwise).
    private static func addRelayHandlers(
        to channel: any Channel, clientAddress: String?, shared: RelayChannelContext, sslContext: NIOSSLContext
    ) throws {
        let relay = shared.service.configuration
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
        try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(Int64(relay.partialFrameTimeoutSeconds))))
        // Small frames only until the client has authenticated (the handler raises the limit
        // then), and every frame whole within twice the stall timeout.
        let decoder = FrameDecoder(
            maxFrameSize: min(RelayConfiguration.maxFrameSizeBeforeAuthentication, relay.maxFrameSize),
            frameDeadline: .seconds(2 * Int64(relay.partialFrameTimeoutSeconds))
        )
        try pipeline.addHandler(decoder)
        try pipeline.addHandler(RelayChannelHandler(shared: shared, decoder: decoder, clientAddress: clientAddress))
    }

    /// The machine-readable ready line: `listening on HOST:PORT tls-sha256=HEX`.
    public var readyLine: String {
        "listening on \(configuration.host):\(localAddress.port ?? 0) tls-sha256=\(Hex.encode(tlsIdentity.certificateHash))"
    }

    /// Accepts and serves connections until the listening socket is closed, then (after
    /// `shutdown()`) until the connections have ended or the grace period is over.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.sweepExpiredEnvelopes() }
            // Several relays on one store: envelopes another relay queued reach this relay's
            // clients through the store's wake-ups, and a poll in case one is lost.
            if let signals = service.store as? any SharedQueueSignals {
                let delivery = SharedQueueDelivery(
                    service: service, signals: signals, pollInterval: configuration.relay.sharedQueuePollInterval
                )
                group.addTask { await delivery.run() }
            }
            try await serverChannel.closeFuture.get()
            await waitForConnectionsToEnd()
            group.cancelAll()
        }
    }

    /// Stops accepting and tells connected clients to go elsewhere; `run()` then gives them
    /// `shutdownGraceSeconds` to hang up (writes in flight finish meanwhile), closes what is
    /// left, and returns.
    public func shutdown() async {
        guard !draining.exchange(true, ordering: .relaxed) else { return }
        stopDeadlineValue.withLock { $0 = .now + .seconds(Int64(configuration.shutdownGraceSeconds)) }
        logger.info("stopping: no new connections, connected clients told to go elsewhere")
        serverChannel.close(promise: nil)
        await service.announceShutdown()
    }

    /// When the stop must be over, once `shutdown()` has begun: the caller closes the store by
    /// then, abandoning what it has not finished (`Deadline`).
    public var stopDeadline: ContinuousClock.Instant? {
        stopDeadlineValue.withLock { $0 }
    }

    /// Whether the relay is stopping.
    public var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Client connections open now, logged in or not.
    public var openConnections: Int { connections.limiter.openConnections }

    /// Waits, at most the grace period less the store's share, until every connection has
    /// ended, then closes the rest.
    private func waitForConnectionsToEnd() async {
        let grace = Duration.seconds(Int64(configuration.shutdownGraceSeconds))
        let stop = stopDeadline ?? .now + grace
        let deadline = stop - min(Self.storeCloseReserve, grace / 2)
        while connections.open.count > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let left = connections.open.closeAll()
        if left > 0 {
            logger.info("closing connections still open after the grace period", metadata: ["count": "\(left)"])
        }
    }

    private func sweepExpiredEnvelopes() async throws {
        while !Task.isCancelled {
            do {
                let expired = try await service.expireQueues()
                if expired > 0 { logger.info("expired queued envelopes", metadata: ["count": "\(expired)"]) }
                let expiredBlobs = try await service.expireBlobs()
                if expiredBlobs > 0 { logger.info("expired blobs", metadata: ["count": "\(expiredBlobs)"]) }
            } catch {
                logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            // Cancellation is how the sweep ends at shutdown, not an error.
            try? await Task.sleep(for: .seconds(Int64(configuration.expirySweepSeconds)))
        }
    }
}
