import CipherNIO
import CipherRelay
import CipherWire
import NIOCore

/// A connection's frames, written to its channel with one flush per event-loop pass.
final class ChannelFrameSink: RelayFrameSink {
    private let writer: CoalescingFrameWriter

    init(channel: any Channel) {
        writer = CoalescingFrameWriter(channel: channel)
    }

    func send(_ frame: WireServerFrame) {
        writer.write(frame.encodedBytes)
    }

    func close() {
        writer.close()
    }
}
