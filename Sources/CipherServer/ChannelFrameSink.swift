import CipherRelay
import CipherWire
import NIOCore

/// Writes a connection's frames to its channel. Frames written during one pass of the event
/// loop share one flush, so a burst of deliveries and acknowledgements leaves in one batch of
/// TLS records and one write system call instead of one each.
final class ChannelFrameSink: RelayFrameSink {
    private let channel: any Channel
    private let flushScheduled: NIOLoopBoundBox<Bool>

    init(channel: any Channel) {
        self.channel = channel
        flushScheduled = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
    }

    func send(_ frame: WireServerFrame) {
        let bytes = frame.encodedBytes
        if channel.eventLoop.inEventLoop {
            write(bytes)
        } else {
            channel.eventLoop.execute { self.write(bytes) }
        }
    }

    /// Scheduled on the loop, so it runs after every write already scheduled there.
    func close() {
        channel.eventLoop.execute {
            self.channel.flush()
            self.channel.close(promise: nil)
        }
    }

    private func write(_ bytes: [UInt8]) {
        channel.write(ByteBuffer(bytes: bytes), promise: nil)
        guard !flushScheduled.value else { return }
        flushScheduled.value = true
        channel.eventLoop.execute {
            self.flushScheduled.value = false
            self.channel.flush()
        }
    }
}
