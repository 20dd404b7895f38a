import CipherCore
import CipherNIO
import CipherRelay
import CipherWire
import NIOCore
import NIOEmbedded

/// The relay's and the client's framing (PROTOCOL.md 12.1): `FrameDecoder` in a channel, fed the
/// input in pieces of a size the input chooses, its limit raised part way as the relay raises it
/// after a login. What it passes on is compared with a plain reading of the same bytes, and each
/// frame goes on to the decoder that reads it next: `ClientFrame` on the relay, `ServerFrame` on
/// the client (what those carry goes further in `WireMessagesEntry`).
///
/// Control bytes: the piece size (0: all at once), the piece after which the limit is raised
/// (none if there are fewer pieces), and which side's limits apply.
enum FrameDecoderEntry {
    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let pieceSize = Int(input.byte() % 64)
        let raiseAfter = Int(input.byte())
        let relaySide = input.byte() & 1 == 0
        let stream = Array(input.rest)
        let pieces = split(stream, pieceSize: pieceSize)
        let initialLimit = relaySide ? RelayConfiguration.maxFrameSizeBeforeAuthentication : ServerFrameLimit.maxSize
        let raisedLimit = relaySide ? RelayConfiguration().maxFrameSize : ServerFrameLimit.maxSize
        let limits = pieces.indices.map { $0 > raiseAfter ? raisedLimit : initialLimit }

        let decoder = FrameDecoder(maxFrameSize: initialLimit)
        let channel = EmbeddedChannel()
        var received: [InboundFrame] = []
        do {
            try channel.pipeline.syncOperations.addHandler(decoder)
            for (index, piece) in pieces.enumerated() {
                if index == raiseAfter + 1 { decoder.raiseLimit(to: raisedLimit) }
                try channel.writeInbound(channel.allocator.buffer(bytes: piece))
                while let frame = try channel.readInbound(as: InboundFrame.self) { received.append(frame) }
            }
        } catch {
            outcome.check(false, "the embedded channel failed: \(error)")
        }
        _ = try? channel.finish()

        let expected = expectedFrames(stream, pieces: pieces, limits: limits)
        outcome.check(received.count == expected.count, "\(received.count) frames passed on, \(expected.count) in the stream")
        for (got, want) in zip(received, expected) {
            switch (got, want) {
            case (.frame(let buffer), .frame(let payload)):
                outcome.check(Array(buffer.readableBytesView) == Array(payload), "a frame's bytes differ from the stream's")
                decodeAsTheReceiverDoes(buffer, relaySide: relaySide)
            case (.tooLarge(let size), .tooLarge(let announced)):
                outcome.check(size == announced, "announced size \(size), the stream says \(announced)")
            default:
                outcome.check(false, "passed on \(got), the stream holds \(want)")
            }
        }
        outcome.accepted = !received.isEmpty
    }

    private static func split(_ stream: [UInt8], pieceSize: Int) -> [ArraySlice<UInt8>] {
        guard pieceSize > 0, !stream.isEmpty else { return [stream[...]] }
        return stride(from: 0, to: stream.count, by: pieceSize).map { stream[$0..<min($0 + pieceSize, stream.count)] }
    }

    enum Expected: CustomStringConvertible {
        case frame(ArraySlice<UInt8>)
        case tooLarge(Int)

        var description: String {
            switch self {
            case .frame(let payload): "a frame of \(payload.count) bytes"
            case .tooLarge(let size): "a frame of \(size) bytes over the limit"
            }
        }
    }

    /// A plain reading of the stream. A frame's length is checked against the limit in force
    /// when its 4-byte prefix is complete: the decoder checks it then, and the limit only grows.
    private static func expectedFrames(_ stream: [UInt8], pieces: [ArraySlice<UInt8>], limits: [Int]) -> [Expected] {
        var frames: [Expected] = []
        var offset = 0
        while offset + 4 <= stream.count {
            let length = stream[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let piece = pieces.firstIndex { $0.endIndex >= offset + 4 }!
            guard length <= limits[piece] else {
                frames.append(.tooLarge(length))
                break
            }
            guard offset + 4 + length <= stream.count else { break }
            frames.append(.frame(stream[offset + 4..<offset + 4 + length]))
            offset += 4 + length
        }
        return frames
    }

    /// The relay reads a frame as a `ClientFrame` under its frame limit; the client reads one as
    /// a `ServerFrame` no larger than the frame. (What the frames carry is the wire target's.)
    private static func decodeAsTheReceiverDoes(_ buffer: ByteBuffer, relaySide: Bool) {
        if relaySide {
            _ = try? WireClientFrame(boundedBytes: buffer.readableBytesView, maxSize: RelayConfiguration().maxFrameSize)
        } else {
            _ = try? WireServerFrame(boundedBytes: buffer.readableBytesView, maxSize: buffer.readableBytes)
        }
    }
}
