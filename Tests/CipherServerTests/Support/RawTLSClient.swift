import CipherNIO
import CipherWire
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection to the relay that writes whatever bytes a test gives it, for the hostile
/// cases the real client never produces.
struct RawTLSClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Connects from the loopback address `source` (any of 127.0.0.0/8); with `proxyHeader`,
    /// sends those bytes before TLS begins, as a balancer does.
    static func connect(
        port: Int, trust: RelayTLS.ServerTrust, from source: String = "127.0.0.1", proxyHeader: [UInt8]? = nil
    ) async throws -> RawTLSClient {
        let context = try RelayTLS.clientContext(trust: trust)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: source, port: 0))
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let proxyHeader {
                        try channel.pipeline.syncOperations.addHandler(LeadingBytesWriter(bytes: proxyHeader))
                    }
                    try channel.pipeline.syncOperations.addHandler(RelayTLS.clientHandler(context: context, trust: trust, hostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawTLSClient(channel: channel)
    }

    /// Writes `bytes`, then reads frames until the relay closes the connection (bounded by
    /// `maxFrames`), returning the decoded server frames.
    func exchange(_ bytes: [UInt8], maxFrames: Int = 10) async throws -> [WireServerFrame] {
        try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
            var received = ByteBuffer()
            var frames: [WireServerFrame] = []
            do {
                for try await var chunk in inbound {
                    received.writeBuffer(&chunk)
                    while let length = received.getInteger(at: received.readerIndex, as: UInt32.self),
                          received.readableBytes >= 4 + Int(length) {
                        received.moveReaderIndex(forwardBy: 4)
                        let payload = received.readBytes(length: Int(length))!
                        frames.append(try WireServerFrame(serializedBytes: payload))
                    }
                    if frames.count >= maxFrames { break }
                }
            } catch NIOSSLError.uncleanShutdown {
                // The relay hung up without a TLS close_notify, as it may on a connection it
                // refuses or drops: the end of the stream, not a failure of the exchange.
            }
            return frames
        }
    }
}

/// Writes its bytes first thing on a new connection, ahead of the TLS handshake after it.
private final class LeadingBytesWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let bytes: [UInt8]

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
        context.fireChannelActive()
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
