import CipherCore
import CipherNIO
import CipherWire
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One TLS connection to the relay (PROTOCOL.md 12): requests matched to replies by request id,
/// and everything the relay sends unasked (deliveries, notices) on `events`.
public actor RelayLink {
    public enum Event: Sendable {
        case delivery(WireDelivery)
        case prekeysLow(remaining: Int)
        case goingAway
        case closed
    }

    public nonisolated let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private let channel: any Channel
    private let writer: CoalescingFrameWriter
    private var pending: [UInt64: CheckedContinuation<WireServerFrame, any Error>] = [:]
    private var nextRequestID: UInt64 = 1
    private var challenge: CheckedContinuation<[UInt8], any Error>?
    private var receivedNonce: [UInt8]?
    private var isClosed = false

    public enum ConnectError: Error, Sendable {
        /// The relay presented a certificate other than the pinned one.
        case certificateMismatch
    }

    /// Connects, completes the TLS handshake (refused unless the relay is trusted), and starts
    /// reading. `maxFrameSize` bounds what the relay may send: by default the largest frame a
    /// conforming relay sends (a room's whole chain, PROTOCOL.md 12.1).
    public static func connect(
        host: String, port: Int, trust: RelayTLS.ServerTrust, maxFrameSize: Int = ServerFrameLimit.maxSize,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> RelayLink {
        let mismatch = PinMismatch()
        do {
            return try await connect(host: host, port: port, trust: trust, maxFrameSize: maxFrameSize, group: group, mismatch: mismatch)
        } catch {
            if mismatch.happened { throw ConnectError.certificateMismatch }
            throw error
        }
    }

    private static func connect(
        host: String, port: Int, trust: RelayTLS.ServerTrust, maxFrameSize: Int,
        group: any EventLoopGroup, mismatch: PinMismatch
    ) async throws -> RelayLink {
        let context = try RelayTLS.clientContext(trust: trust)
        let asyncChannel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(RelayTLS.clientHandler(
                        context: context, trust: trust, hostname: host, onPinMismatch: { mismatch.record() }
                    ))
                    try pipeline.addHandler(FrameDecoder(maxFrameSize: maxFrameSize))
                    return try NIOAsyncChannel<InboundFrame, Never>(wrappingChannelSynchronously: channel)
                }
            }
        let link = RelayLink(channel: asyncChannel.channel)
        // The reading task runs on the channel's event loop, as the actor does: a frame is
        // read and dispatched without a thread switch.
        Task(executorPreference: EventLoopTaskExecutor(eventLoop: asyncChannel.channel.eventLoop)) {
            await link.run(asyncChannel)
        }
        // The first frame is the relay's challenge; it arrives after the TLS handshake, so a
        // certificate that is not trusted fails here.
        _ = try await link.waitForChallenge()
        return link
    }

    private init(channel: any Channel) {
        (events, eventSink) = AsyncStream.makeStream(of: Event.self)
        self.channel = channel
        writer = CoalescingFrameWriter(channel: channel)
    }

    /// The actor runs on its channel's event loop.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { channel.eventLoop.executor.asUnownedSerialExecutor() }

    private func run(_ asyncChannel: NIOAsyncChannel<InboundFrame, Never>) async {
        do {
            try await asyncChannel.executeThenClose { inbound in
                for try await frame in inbound {
                    guard case .frame(let buffer) = frame,
                          let decoded = try? WireServerFrame(boundedBytes: buffer.readableBytesView, maxSize: buffer.readableBytes) else {
                        break
                    }
                    self.dispatch(decoded)
                }
            }
        } catch {
            // The connection failed; `shutDown` tells everyone waiting.
        }
        shutDown()
    }

    private func dispatch(_ frame: WireServerFrame) {
        switch frame.body {
        case .challenge(let challenge):
            receivedNonce = Array(challenge.nonce)
            self.challenge?.resume(returning: Array(challenge.nonce))
            self.challenge = nil
        case .delivery(let delivery):
            eventSink.yield(.delivery(delivery))
        case .prekeysLow(let low):
            eventSink.yield(.prekeysLow(remaining: Int(low.remaining)))
        case .goingAway:
            eventSink.yield(.goingAway)
        case .error(let error) where frame.requestID == 0:
            // Not an answer to a request: the relay is closing this connection.
            failAll(RelayError(error))
        default:
            if let continuation = pending.removeValue(forKey: frame.requestID) {
                if case .error(let error) = frame.body {
                    continuation.resume(throwing: RelayError(error))
                } else {
                    continuation.resume(returning: frame)
                }
            }
        }
    }

    private func waitForChallenge() async throws -> [UInt8] {
        if let receivedNonce { return receivedNonce }
        guard !isClosed else { throw RelayError.connectionClosed }
        return try await withCheckedThrowingContinuation { challenge = $0 }
    }

    /// Sends a request and waits for the relay's answer to it.
    public func request(_ body: WireClientFrame.OneOf_Body) async throws -> WireServerFrame {
        guard !isClosed else { throw RelayError.connectionClosed }
        let requestID = nextRequestID
        nextRequestID += 1
        var frame = WireClientFrame()
        frame.requestID = requestID
        frame.body = body
        return try await withCheckedThrowingContinuation { continuation in
            pending[requestID] = continuation
            // A write that fails closes the channel, and closing fails every pending request.
            writer.write(frame.encodedBytes)
        }
    }

    /// Sends a frame that has no answer (acknowledgements).
    public func post(_ body: WireClientFrame.OneOf_Body) async throws {
        guard !isClosed else { throw RelayError.connectionClosed }
        var frame = WireClientFrame()
        frame.body = body
        writer.write(frame.encodedBytes)
    }

    /// Proves possession of `identity` and logs in (or registers the name first).
    public func authenticate(
        _ purpose: RelayAuthentication.Purpose, username: String, identity: PrivateIdentity
    ) async throws -> WireWelcome {
        // The signature binds the certificate this connection saw (PROTOCOL.md 12.3).
        let hash = try await channel.nioSSL_peerCertificate().get()?.sha256 ?? []
        let nonce = try await waitForChallenge()
        let signature = try RelayAuthentication.sign(
            purpose: purpose, nonce: nonce, username: username, serverCertificateHash: hash, identity: identity
        )
        let reply: WireServerFrame
        switch purpose {
        case .register:
            var register = WireRegister()
            register.username = username
            register.identity = identity.publicIdentity.wire
            register.signature = Data(signature)
            reply = try await request(.register(register))
        case .login:
            var login = WireLogin()
            login.username = username
            login.signature = Data(signature)
            reply = try await request(.login(login))
        }
        guard case .welcome(let welcome) = reply.body else { throw RelayError.unexpectedReply }
        return welcome
    }

    /// Sends what was written before (a last acknowledgement, say), then closes, and returns
    /// once the connection is closed: a process that exits right after loses nothing.
    public func close() async {
        writer.close()
        try? await channel.closeFuture.get()
    }

    private func failAll(_ error: any Error) {
        for continuation in pending.values { continuation.resume(throwing: error) }
        pending.removeAll()
        challenge?.resume(throwing: error)
        challenge = nil
    }

    private func shutDown() {
        guard !isClosed else { return }
        isClosed = true
        failAll(RelayError.connectionClosed)
        eventSink.yield(.closed)
        eventSink.finish()
    }
}

/// Whether the pin check refused the relay's certificate during one connection attempt.
private final class PinMismatch: Sendable {
    private let flag = Mutex(false)

    func record() { flag.withLock { $0 = true } }
    var happened: Bool { flag.withLock { $0 } }
}
