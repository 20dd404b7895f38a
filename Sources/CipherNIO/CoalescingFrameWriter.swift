import NIOCore

/// Writes encoded frames to a channel from any thread. Frames written during one pass of the
/// event loop share one flush, so a burst of frames leaves in one batch of TLS records and one
/// write system call instead of one each. Calls made from one thread keep their order.
public final class CoalescingFrameWriter: Sendable {
    public let channel: any Channel
    private let flushScheduled: NIOLoopBoundBox<Bool>

    public init(channel: any Channel) {
        self.channel = channel
        flushScheduled = .makeBoxSendingValue(false, eventLoop: channel.eventLoop)
    }

    /// Writes one frame's payload (the frame encoder adds the length prefix).
    public func write(_ payload: [UInt8]) {
        if channel.eventLoop.inEventLoop {
            writeOnLoop(payload)
        } else {
            channel.eventLoop.execute { self.writeOnLoop(payload) }
        }
    }

    /// Flushes what was written before, then closes the channel. Scheduled on the loop, so it
    /// runs after every write already scheduled there.
    public func close() {
        channel.eventLoop.execute {
            self.channel.flush()
            self.channel.close(promise: nil)
        }
    }

    private func writeOnLoop(_ payload: [UInt8]) {
        channel.write(ByteBuffer(bytes: payload), promise: nil)
        guard !flushScheduled.value else { return }
        flushScheduled.value = true
        channel.eventLoop.execute {
            self.flushScheduled.value = false
            self.channel.flush()
        }
    }
}
