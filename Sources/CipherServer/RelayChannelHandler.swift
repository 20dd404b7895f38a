import CipherNIO
import CipherRelay
import CipherWire
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// What every connection's handler shares.
struct RelayChannelContext: Sendable {
    let service: RelayService
    let limiter: ConnectionLimiter
    let authenticationTimeout: TimeAmount
    let logger: Logger
    let taskExecutors: [ObjectIdentifier: EventLoopTaskExecutor]
    let open: OpenChannels
}

/// The client channels open now, so that a relay stopping can close those still open after
/// the grace period.
final class OpenChannels: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: any Channel) { channels.withLock { $0[ObjectIdentifier(channel)] = nil } }
    var count: Int { channels.withLock { $0.count } }

    /// Closes every open channel; returns how many there were.
    func closeAll() -> Int {
        let open = channels.withLock { $0.values }
        for channel in open { channel.close(promise: nil) }
        return open.count
    }
}

/// One client connection, on its channel's event loop: admits it, hands its frames in order to
/// its `RelayConnection` (an actor on the same loop), and closes it when the protocol says so.
///
/// No task exists while the client is idle. Frames that arrive are queued, and a task started
/// on the loop handles them one after another and ends when the queue is empty; so a burst of
/// frames shares one task, and an idle connection costs its TLS state and a few small objects.
/// While the queue is long the handler stops reading, so a fast client cannot make it grow; and
/// while the channel is not writable (a client that does not read what it asked for: chunks of a
/// file, say) it handles nothing more, so what waits to be sent stays near NIO's write watermark
/// instead of growing with every request.
final class RelayChannelHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame

    /// Reading pauses at this many queued frames (one before authentication), or at
    /// `RelayConfiguration.maxQueuedFrameBytes`, and resumes once they are handled.
    static let maxQueuedFrames = 64
    /// How long a refused client has to read why before the relay hangs up.
    static let refusalGrace = TimeAmount.milliseconds(500)

    private let shared: RelayChannelContext
    private let decoder: FrameDecoder
    private var connection: RelayConnection?
    private var address = "unknown"
    private var admitted = false
    private var refusedLimit: String?
    private var queued = CircularBuffer<InboundFrame>(initialCapacity: 4)
    private var queuedBytes = 0
    private var authenticated = false
    private var draining = false
    private var readingPaused = false
    private var waitingForWritability = false
    private var channelClosed = false
    private var loginTimer: Scheduled<Void>?

    private let clientAddress: String?
    private var started = false

    /// `clientAddress` is the client's address from a balancer's PROXY header; nil for a
    /// connection straight from the client.
    init(shared: RelayChannelContext, decoder: FrameDecoder, clientAddress: String? = nil) {
        self.shared = shared
        self.decoder = decoder
        self.clientAddress = clientAddress
    }

    /// Added to a connection already open (after a PROXY header): it starts at once.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    /// Admits the connection, or notes which limit refuses it.
    private func start(context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        let channel = context.channel
        shared.open.add(channel)
        address = clientAddress ?? channel.remoteAddress?.ipAddress ?? "unknown"
        switch shared.limiter.admit(address: address) {
        case .refused(let limit):
            shared.service.securityLog.record(SecurityEvent(kind: .connectionRefused, address: address, detail: limit))
            if let limit = RelayLimit(rawValue: limit) { shared.service.observer.limitHit(limit) }
            // The error frame is written once the TLS handshake completes (see below).
            refusedLimit = limit
        case .admitted:
            admitted = true
            let connection = shared.service.connect(
                address: address, sink: ChannelFrameSink(channel: channel), executor: channel.eventLoop.executor
            )
            self.connection = connection
            loginTimer = channel.eventLoop.scheduleTask(in: shared.authenticationTimeout) {
                Task { if await connection.authenticatedUsername == nil { channel.close(promise: nil) } }
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // A refused client hears why only after the handshake: NIOSSL completes a write made
        // before it once buffered, and closing then would cut the handshake short.
        if let limit = refusedLimit, let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            let frame = WireServerFrame.relayError(
                .tooManyConnections, "the relay has too many connections", retryAfterMilliseconds: 5000, limit: limit
            )
            context.writeAndFlush(NIOAny(CoalescingFrameWriter.framed(frame.encodedBytes)), promise: nil)
            // Closing at once, with the client's last TLS records unread, can reset the
            // connection and lose the frame: give the client a moment to hang up first.
            let channel = context.channel
            channel.eventLoop.scheduleTask(in: Self.refusalGrace) { channel.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard connection != nil else { return }
        let frame = unwrapInboundIn(data)
        if case .frame(let buffer) = frame { queuedBytes += buffer.readableBytes }
        queued.append(frame)
        let full = queued.count >= (authenticated ? Self.maxQueuedFrames : 1)
            || queuedBytes >= RelayConfiguration.maxQueuedFrameBytes
        if full, !readingPaused {
            readingPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
        guard !draining else { return }
        draining = true
        startDraining(channel: context.channel)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, waitingForWritability {
            waitingForWritability = false
            if !queued.isEmpty, !draining {
                draining = true
                startDraining(channel: context.channel)
            } else {
                resumeReading(channel: context.channel)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        shared.open.remove(context.channel)
        loginTimer?.cancel()
        loginTimer = nil
        channelClosed = true
        if admitted {
            admitted = false
            shared.limiter.release(address: address)
        }
        // Frames that arrived before the close are still handled (a client's last
        // acknowledgement, sent just before it hangs up, say); the draining task then closes
        // the connection. With nothing queued it is closed now.
        if !draining, let connection {
            self.connection = nil
            Task { await connection.close() }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        shared.logger.debug("connection ended", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Handles queued frames in order in a task on this loop until none is left.
    private func startDraining(channel: any Channel) {
        guard let connection else { return }
        let handler = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let executor = shared.taskExecutors[ObjectIdentifier(channel.eventLoop)]
        Task(executorPreference: executor) {
            defer {
                if handler.value.channelClosed {
                    handler.value.connection = nil
                    Task { await connection.close() }
                }
            }
            while let frame = handler.value.nextFrame(channel: channel) {
                let keepOpen: Bool
                switch frame {
                case .frame(let buffer):
                    keepOpen = await connection.receive(Array(buffer.readableBytesView)) == .keepOpen
                case .tooLarge:
                    await connection.frameTooLarge(limit: handler.value.decoder.maxFrameSize)
                    keepOpen = false
                }
                guard keepOpen, await !connection.isClosed else {
                    await connection.close()
                    handler.value.stopReading()
                    return
                }
                if !handler.value.authenticated, await connection.authenticatedUsername != nil {
                    handler.value.authenticated = true
                    handler.value.loginTimer?.cancel()
                    handler.value.loginTimer = nil
                    handler.value.decoder.raiseLimit(to: handler.value.shared.service.configuration.maxFrameSize)
                }
            }
        }
    }

    /// The next queued frame, or nil (and draining ends) when there is none, or when the client
    /// is not reading what it was sent (draining resumes when the channel is writable again).
    private func nextFrame(channel: any Channel) -> InboundFrame? {
        if !channel.isWritable, !channelClosed, connection != nil, !queued.isEmpty {
            draining = false
            waitingForWritability = true
            if !readingPaused {
                readingPaused = true
                channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
            }
            return nil
        }
        guard connection != nil, let frame = queued.popFirst() else {
            draining = false
            resumeReading(channel: channel)
            return nil
        }
        if case .frame(let buffer) = frame { queuedBytes -= buffer.readableBytes }
        return frame
    }

    private func resumeReading(channel: any Channel) {
        if readingPaused, !channelClosed, !waitingForWritability {
            readingPaused = false
            channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        }
    }

    private func stopReading() {
        queued.removeAll()
        queuedBytes = 0
        draining = false
    }
}
