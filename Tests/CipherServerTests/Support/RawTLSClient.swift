import CipherNIO
import CipherWire
import NIOCore
import NIOPosix
import NIOSSL

/// A TLS connection to the relay that writes whatever bytes a test gives it, for the hostile
/// cases the real client never produces.
struct RawTLSClient {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int, trust: RelayTLS.ServerTrust) async throws -> RawTLSClient {
        let context = try RelayTLS.clientContext(trust: trust)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
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
