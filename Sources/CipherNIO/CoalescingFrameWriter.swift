import NIOCore
import Synchronization

/// Writes frames to a channel from any thread. Frames written before the channel's event loop
/// gets to them are framed (4-byte big-endian length, then the payload) into one buffer and
/// leave as one write and one flush: a burst of frames becomes a few full TLS records and one
/// system call instead of a record, a loop task and often a system call each. Frames keep the
/// order of the `write` calls that made them.
public final class CoalescingFrameWriter: Sendable {
    public let channel: any Channel
    private let state = Mutex(State())

    private struct State {
        var pending = ByteBuffer()
        var drainScheduled = false
    }

    public init(channel: any Channel) {
        self.channel = channel
    }

    /// Writes one frame's payload; the length prefix is added here.
    public func write(_ payload: [UInt8]) {
        let schedule = state.withLock { state in
            Self.appendFrame(payload, to: &state.pending)
            guard !state.drainScheduled else { return false }
            state.drainScheduled = true
            return true
        }
        if schedule { channel.eventLoop.execute { self.drain() } }
    }

    /// Writes what was written before, then closes the channel.
    public func close() {
        channel.eventLoop.execute {
            self.drain()
            self.channel.close(promise: nil)
        }
    }

    /// One payload with its length prefix, as the relay's frames are (PROTOCOL.md 12.2).
    public static func framed(_ payload: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        appendFrame(payload, to: &buffer)
        return buffer
    }

    private static func appendFrame(_ payload: [UInt8], to buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: 4 + payload.count)
        buffer.writeInteger(UInt32(payload.count))
        buffer.writeBytes(payload)
    }

    private func drain() {
        let frames = state.withLock { state in
            state.drainScheduled = false
            defer { state.pending = ByteBuffer() }
            return state.pending
        }
        guard frames.readableBytes > 0 else { return }
        channel.writeAndFlush(frames, promise: nil)
    }
}
