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
///
/// A frame must arrive whole within `frameDeadline` of its first byte: a peer that stops in the
/// middle of one is closed when the idle-read event arrives, and one that trickles it (a byte
/// now and then, never idle long enough for that event) is closed at its first read after the
/// deadline. So a connection cannot hold a buffer for ever at the cost of a byte a minute.
public final class FrameDecoder: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = InboundFrame

    /// The limit in force; `raiseLimit(to:)` changes it (the relay raises it after a login).
    public private(set) var maxFrameSize: Int
    private let frameDeadline: TimeAmount?
    private var buffer: ByteBuffer?
    /// When the first byte of the partial frame in `buffer` arrived.
    private var partialSince: NIODeadline?
    private var rejected = false

    public init(maxFrameSize: Int, frameDeadline: TimeAmount? = nil) {
        self.maxFrameSize = maxFrameSize
        self.frameDeadline = frameDeadline
    }

    /// Accepts frames up to `limit` from now on; called on the channel's event loop.
    public func raiseLimit(to limit: Int) {
        maxFrameSize = max(maxFrameSize, limit)
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !rejected else { return }
        if let frameDeadline, let partialSince, NIODeadline.now() - partialSince > frameDeadline {
            rejected = true
            buffer = nil
            context.close(promise: nil)
            return
        }
        var incoming = unwrapInboundIn(data)
        var pending: ByteBuffer
        if var partial = buffer {
            // Held only here while it grows, so the append never copies it first. It is this
            // decoder's own, sized for its frame where that is known (see below).
            buffer = nil
            if let frameSize = Self.frameSize(in: partial), partial.writableBytes < incoming.readableBytes {
                partial.reserveCapacity(minimumWritableBytes: Self.reservation(frameSize: frameSize, held: partial.readableBytes + incoming.readableBytes) - partial.readableBytes)
            }
            partial.writeBuffer(&incoming)
            pending = partial
        } else {
            pending = incoming
        }
        var handedOn = false
        defer { if buffer == nil { partialSince = nil } else if handedOn || partialSince == nil { partialSince = .now() } }
        while let length = pending.getInteger(at: pending.readerIndex, as: UInt32.self) {
            guard Int(length) <= maxFrameSize else {
                rejected = true
                context.fireChannelRead(wrapInboundOut(.tooLarge(announcedSize: Int(length))))
                return
            }
            guard pending.readableBytes >= 4 + Int(length) else { break }
            pending.moveReaderIndex(forwardBy: 4)
            let frame = pending.readSlice(length: Int(length))!
            handedOn = true
            context.fireChannelRead(wrapInboundOut(.frame(frame)))
        }
        guard pending.readableBytes > 0 else { return }
        // What is left is the start of the next frame. It goes into a buffer of this decoder's
        // own, unless it is in one already and no frame was handed on from it: frames handed on
        // (and the TLS layer, for what it passed in) share the storage it was read into, and
        // growing a shared storage copies all of it. The new buffer is sized towards the whole
        // frame, so a large frame grows it once or twice rather than by doubling, a copy each.
        if incoming.readableBytes == 0, !handedOn {
            buffer = pending
            return
        }
        let held = pending.readableBytes
        let capacity = Self.frameSize(in: pending).map { Self.reservation(frameSize: $0, held: held) } ?? held
        var own = context.channel.allocator.buffer(capacity: max(capacity, held))
        own.writeBuffer(&pending)
        buffer = own
    }

    /// The size of the frame starting at the reader index, prefix included, once its prefix is in.
    private static func frameSize(in buffer: ByteBuffer) -> Int? {
        buffer.getInteger(at: buffer.readerIndex, as: UInt32.self).map { 4 + Int($0) }
    }

    /// Room for a partial frame: the whole frame, but at most four times what the peer has sent
    /// of it (at least 64 KiB), so an announced length alone reserves little.
    private static func reservation(frameSize: Int, held: Int) -> Int {
        min(frameSize, max(4 * held, 64 * 1024))
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
