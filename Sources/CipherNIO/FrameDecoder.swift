import NIOCore

/// What the frame decoder passes on: a whole frame's payload, or word that the peer announced a
/// frame over the limit (then nothing more is read from it).
public enum InboundFrame: Sendable {
    case frame(ByteBuffer)
    case tooLarge(announcedSize: Int)
}

/// Splits the byte stream into frames: a 4-byte big-endian length, then that many bytes
/// (PROTOCOL.md 12.1). It never holds more than one frame of at most `maxFrameSize` bytes: an
/// announced length over the limit is reported at once, before any of the frame is buffered.
/// A peer that stops in the middle of a frame is closed when the idle-read event arrives.
public final class FrameDecoder: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = InboundFrame

    private let maxFrameSize: Int
    private var buffer: ByteBuffer?
    private var rejected = false

    public init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected else { return }
        var incoming = unwrapInboundIn(data)
        if buffer == nil {
            buffer = incoming
        } else {
            buffer!.writeBuffer(&incoming)
        }
        while var pending = buffer, let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self) {
            guard Int(length) <= maxFrameSize else {
                rejected = true
                buffer = nil
                context.fireChannelRead(wrapInboundOut(.tooLarge(announcedSize: Int(length))))
                return
            }
            guard pending.readableBytes >= 4 + Int(length) else { break }
            pending.moveReaderIndex(forwardBy: 4)
            let frame = pending.readSlice(length: Int(length))!
            buffer = pending.readableBytes > 0 ? pending : nil
            context.fireChannelRead(wrapInboundOut(.frame(frame)))
        }
        if buffer != nil, buffer!.readerIndex > 64 * 1024 {
            buffer!.discardReadBytes()
        }
    }

    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Idle is normal for a chat connection; idle in the middle of a frame is a stall.
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read, (buffer?.readableBytes ?? 0) > 0 {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
