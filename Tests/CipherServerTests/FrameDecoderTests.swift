import CipherNIO
import NIOCore
import NIOEmbedded
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    /// Small frames, an empty one, and chunk-sized ones larger than a TLS record.
    static let payloads: [[UInt8]] = [
        [1, 2, 3], [], Array(repeating: 7, count: 300), (0..<(256 * 1024 + 100)).map { UInt8(truncatingIfNeeded: $0) },
        [9], (0..<(300 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }, Array(repeating: 5, count: 70_000),
    ]

    static func stream(_ payloads: [[UInt8]]) -> [UInt8] {
        payloads.flatMap { payload in
            withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload
        }
    }

    /// Feeds `bytes` in pieces of `piece` bytes and returns what the decoder handed on.
    static func decode(_ bytes: [UInt8], piece: Int, maxFrameSize: Int = 1 << 20) throws -> [InboundFrame] {
        let channel = EmbeddedChannel(handler: FrameDecoder(maxFrameSize: maxFrameSize))
        var decoded: [InboundFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + piece, bytes.count)
            try channel.writeInbound(ByteBuffer(bytes: bytes[offset..<end]))
            while let frame = try channel.readInbound(as: InboundFrame.self) { decoded.append(frame) }
            offset = end
        }
        _ = try channel.finish(acceptAlreadyClosed: true)
        return decoded
    }

    static func payloads(of frames: [InboundFrame]) -> [[UInt8]] {
        frames.compactMap { frame in
            guard case .frame(let buffer) = frame else { return nil }
            return Array(buffer.readableBytesView)
        }
    }

    @Test("frames fed a byte at a time, in TLS-record-sized pieces, in odd pieces or all at once come out whole and in order",
          arguments: [1, 7, 4093, 16 * 1024, 100_000, 1 << 22])
    func wholeFramesInOrder(piece: Int) throws {
        let frames = try Self.decode(Self.stream(Self.payloads), piece: piece)
        #expect(frames.count == Self.payloads.count)
        #expect(Self.payloads(of: frames) == Self.payloads)
    }

    @Test("a frame announced over the limit is reported at once, and nothing after it is read")
    func tooLarge() throws {
        let bytes = Self.stream([[1, 2], Array(repeating: 0, count: 2000), [3]])
        let frames = try Self.decode(bytes, piece: 5, maxFrameSize: 1000)
        #expect(Self.payloads(of: frames) == [[1, 2]])
        guard case .tooLarge(let announced) = frames.last else {
            Issue.record("no tooLarge after the first frame: \(frames)")
            return
        }
        #expect(announced == 2000)
        #expect(frames.count == 2)
    }
}
