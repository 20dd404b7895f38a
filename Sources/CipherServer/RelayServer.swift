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
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<InboundFrame, ByteBuffer>, Never>
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
            clock: SystemRelayClock(), random: SystemRandomSource(), certificateHash: tlsIdentity.certificateHash,
            blobChunks: try FileSystemBlobChunks(directory: configuration.blobDirectory ?? "\(configuration.dataDirectory)/blobs")
        )
        limiter = ConnectionLimiter(configuration: configuration.relay)
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
                    return try NIOAsyncChannel<InboundFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
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
                    group.addTask { await self.serve(connection) }
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
                let expiredBlobs = try await service.expireBlobs()
                if expiredBlobs > 0 { logger.info("expired blobs", metadata: ["count": "\(expiredBlobs)"]) }
            } catch {
                logger.error("expiry sweep failed", metadata: ["error": "\(error)"])
            }
            // Cancellation is how the sweep ends at shutdown, not an error.
            try? await Task.sleep(for: .seconds(Int64(configuration.expirySweepSeconds)))
        }
    }

    private func serve(_ connection: NIOAsyncChannel<InboundFrame, ByteBuffer>) async {
        let address = connection.channel.remoteAddress?.ipAddress ?? "unknown"
        let admission = limiter.admit(address: address)
        if case .refused(let limit) = admission {
            service.securityLog.record(SecurityEvent(kind: .connectionRefused, address: address, detail: limit))
            await refuse(connection, limit: limit)
            return
        }
        defer { limiter.release(address: address) }
        let relayConnection = service.connect(address: address)
        let authenticationTimeout = configuration.relay.authenticationTimeoutSeconds
        let timer = Task {
            try await Task.sleep(for: .seconds(Int64(authenticationTimeout)))
            if await relayConnection.authenticatedUsername == nil { connection.channel.close(promise: nil) }
        }
        defer { timer.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask {
                        for await frame in relayConnection.outbound {
                            try await outbound.write(ByteBuffer(bytes: frame.encodedBytes))
                        }
                    }
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
                        // The login timer has done its job once the client is in: a task
                        // sleeping per connection costs memory on a relay holding thousands.
                        if timerRunning, await relayConnection.authenticatedUsername != nil {
                            timer.cancel()
                            timerRunning = false
                        }
                    }
                    // Closing finishes the outbound stream: the writer drains it, then ends.
                    await relayConnection.close()
                    try await tasks.waitForAll()
                }
            }
        } catch {
            logger.debug("connection ended", metadata: ["error": "\(error)"])
        }
        await relayConnection.close()
    }

    private func refuse(_ connection: NIOAsyncChannel<InboundFrame, ByteBuffer>, limit: String) async {
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
        try? await connection.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: frame.encodedBytes))
            // Give the client a moment to read it and hang up first: closing at once, with the
            // client's last TLS records unread, can reset the connection and lose the frame.
            let deadline = ContinuousClock.now.advanced(by: .milliseconds(500))
            let timer = Task {
                try await Task.sleep(until: deadline)
                connection.channel.close(promise: nil)
            }
            for try await _ in inbound {}
            timer.cancel()
        }
    }
}
