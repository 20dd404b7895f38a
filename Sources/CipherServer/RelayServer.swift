import CipherCore
import CipherNIO
import CipherRelay
import CipherWire
import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// The relay over the network: TLS 1.3, length-prefixed frames, one `RelayConnection` per
/// client. All protocol decisions are made in CipherRelay; this wires sockets to them.
public final class RelayServer: Sendable {
    public let service: RelayService
    public let tlsIdentity: TLSIdentity
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let limiter: ConnectionLimiter
    /// Each connection's task runs on its channel's event loop (see `EventLoopTaskExecutor`).
    private let taskExecutors: [ObjectIdentifier: EventLoopTaskExecutor]
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundFrame, Never>, Never>
    /// Where the relay listens; with port 0 this holds the port the system chose.
    public let localAddress: SocketAddress

    /// Binds the listening socket; `run()` then serves until `shutdown()`.
    public init(
        configuration: ServerConfiguration, store: any RelayStore, securityLog: any SecurityLog,
        logger: Logger, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
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
            clock: SystemRelayClock(), random: SystemRandomSource(), certificateHash: tlsIdentity.certificateHash
        )
        limiter = ConnectionLimiter(configuration: configuration.relay)
        taskExecutors = EventLoopTaskExecutor.perLoop(of: group)
        let sslContext = try RelayTLS.serverContext(identity: tlsIdentity)
        let relay = configuration.relay
        serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(NIOSSLServerHandler(context: sslContext))
                    try pipeline.addHandler(IdleStateHandler(readTimeout: .seconds(Int64(relay.partialFrameTimeoutSeconds))))
                    try pipeline.addHandler(FrameDecoder(maxFrameSize: relay.maxFrameSize))
                    try pipeline.addHandler(FrameEncoder())
                    return try NIOAsyncChannel<InboundFrame, Never>(wrappingChannelSynchronously: channel)
                }
            }
        localAddress = serverChannel.channel.localAddress!
    }

    /// The machine-readable ready line: `listening on HOST:PORT tls-sha256=HEX`.
    public var readyLine: String {
        "listening on \(configuration.host):\(localAddress.port ?? 0) tls-sha256=\(Hex.encode(tlsIdentity.certificateHash))"
    }

    /// Accepts and serves connections until the listening socket is closed.
    public func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.sweepExpiredEnvelopes() }
            try await serverChannel.executeThenClose { inbound in
                for try await connection in inbound {
                    let executor = taskExecutors[ObjectIdentifier(connection.channel.eventLoop)]
                    group.addTask(executorPreference: executor) { await self.serve(connection) }
                }
            }
            group.cancelAll()
        }
    }

    /// Stops accepting, tells connected clients to go elsewhere, and closes the listener.
    public func shutdown() async {
        await service.announceShutdown()
        serverChannel.channel.close(promise: nil)
    }

    private func sweepExpiredEnvelopes() async throws {
        while !Task.isCancelled {
            do {
                let expired = try await service.expireQueues()
                if expired > 0 { logger.info("expired queued envelopes", metadata: ["count": "\(expired)"]) }
            } catch {
                logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            // Cancellation is how the sweep ends at shutdown, not an error.
            try? await Task.sleep(for: .seconds(Int64(configuration.expirySweepSeconds)))
        }
    }

    private func serve(_ connection: NIOAsyncChannel<InboundFrame, Never>) async {
        let address = connection.channel.remoteAddress?.ipAddress ?? "unknown"
        let admission = limiter.admit(address: address)
        if case .refused(let limit) = admission {
            service.securityLog.record(SecurityEvent(kind: .connectionRefused, address: address, detail: limit))
            await refuse(connection, limit: limit)
            return
        }
        defer { limiter.release(address: address) }
        let channel = connection.channel
        let relayConnection = service.connect(
            address: address, sink: ChannelFrameSink(channel: channel), executor: channel.eventLoop.executor
        )
        let authenticationTimeout = configuration.relay.authenticationTimeoutSeconds
        // A scheduled task on the loop rather than a sleeping Swift task: it costs less memory
        // on a relay holding thousands of connections, and is cancelled once the client is in.
        let timer = channel.eventLoop.scheduleTask(in: .seconds(Int64(authenticationTimeout))) {
            Task { if await relayConnection.authenticatedUsername == nil { channel.close(promise: nil) } }
        }
        do {
            try await connection.executeThenClose { inbound in
                var timerRunning = true
                for try await frame in inbound {
                    switch frame {
                    case .frame(let buffer):
                        if await relayConnection.receive(Array(buffer.readableBytesView)) == .close {
                            await relayConnection.close()
                        }
                    case .tooLarge:
                        await relayConnection.frameTooLarge()
                        await relayConnection.close()
                    }
                    if await relayConnection.isClosed { break }
                    if timerRunning, await relayConnection.authenticatedUsername != nil {
                        timer.cancel()
                        timerRunning = false
                    }
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
        timer.cancel()
        await relayConnection.close()
    }

    private func refuse(_ connection: NIOAsyncChannel<InboundFrame, Never>, limit: String) async {
        let frame = WireServerFrame.relayError(
            .tooManyConnections, "the relay has too many connections", retryAfterMilliseconds: 5000, limit: limit
        )
        // NIOSSL completes a write made before the handshake once it is buffered, so closing
        // right after could cut the handshake short and the client would never read why:
        // wait (bounded) until the handshake has finished.
        for _ in 0..<100 {
            if (try? await connection.channel.nioSSL_tlsVersion().get()) != nil { break }
            try? await Task.sleep(for: .milliseconds(10))
        }
        let channel = connection.channel
        try? await connection.executeThenClose { inbound in
            try await channel.writeAndFlush(ByteBuffer(bytes: frame.encodedBytes))
            // Give the client a moment to read it and hang up first: closing at once, with the
            // client's last TLS records unread, can reset the connection and lose the frame.
            let timer = channel.eventLoop.scheduleTask(in: .milliseconds(500)) { channel.close(promise: nil) }
            for try await _ in inbound {}
            timer.cancel()
        }
    }
}
