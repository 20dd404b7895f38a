import CipherCore
import CipherRelay
import NIOCore

/// The first handler of a connection from a balancer in `--proxy-from`: it reads the PROXY
/// protocol header the balancer sends before the client's bytes, then hands the connection,
/// with the client's address, to the relay's handlers (`install`) and steps aside.
///
/// Such a connection must begin with the header: the relay never guesses whether one is there,
/// since a client that could choose would choose its own address. A connection that sends
/// anything else, too much, or nothing within `timeout` is closed.
final class ProxyHeaderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let timeout: TimeAmount
    private let securityLog: any SecurityLog
    /// Adds the relay's handlers after this one, for a client at the given address.
    private let install: (any Channel, String) throws -> Void
    private var received = ByteBuffer()
    private var timer: Scheduled<Void>?
    private var done = false

    init(timeout: TimeAmount, securityLog: any SecurityLog, install: @escaping (any Channel, String) throws -> Void) {
        self.timeout = timeout
        self.securityLog = securityLog
        self.install = install
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startTimer(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startTimer(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var bytes = unwrapInboundIn(data)
        received.writeBuffer(&bytes)
        do {
            guard case .complete(let header) = try ProxyHeader.parse(received.readableBytesView) else { return }
            done = true
            received.moveReaderIndex(forwardBy: header.length)
            let client = try clientAddress(header.source, connection: context.channel.remoteAddress)
            try install(context.channel, client)
            // The client's first TLS bytes may have come with the header.
            if received.readableBytes > 0 { context.fireChannelRead(NIOAny(received)) }
            received = ByteBuffer()
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        } catch let error as ProxyHeaderError {
            refuse(context: context, reason: error.description)
        } catch {
            refuse(context: context, reason: "unusable_address")
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil, !done else { return }
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func refuse(context: ChannelHandlerContext, reason: String) {
        done = true
        let balancer = context.channel.remoteAddress?.ipAddress ?? "unknown"
        securityLog.record(SecurityEvent(kind: .proxyHeaderRefused, address: balancer, detail: reason))
        context.close(promise: nil)
    }

    /// The address the relay's limits and logs use: the client's, or the balancer's own for a
    /// health check.
    private func clientAddress(_ source: ProxyHeader.Source, connection: SocketAddress?) throws -> String {
        switch source {
        case .client(let address, let port):
            let packed = ByteBuffer(bytes: AddressRange.unmapped(address))
            guard let text = try SocketAddress(packedIPAddress: packed, port: Int(port)).ipAddress else {
                throw ProxyHeaderError.unsupportedAddressFamily
            }
            return text
        case .connectionItself:
            return connection?.ipAddress ?? "unknown"
        }
    }
}
