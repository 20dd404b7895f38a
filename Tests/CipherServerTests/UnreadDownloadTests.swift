import CipherClient
import CipherCore
import CipherNIO
import CipherRelay
import CipherWire
import Foundation
import NIOCore
import NIOSSL
import Synchronization
import Testing

/// A client that asks for chunks of a file and does not read them must not make the relay hold
/// them all: the relay stops handling its requests while what it has sent waits unread.
@Suite("A client that does not read what it asked for")
struct UnreadDownloadTests {
    @Test("chunks requested and not read stop being served once the connection backs up, and are all sent once it reads")
    func unreadChunkRequests() async throws {
        let counter = FileBytesCounter()
        let relay = try await TestRelay.start(observer: counter)
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("unread-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // One full chunk.
        try Data((0..<ChatClient.fileChunkSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: URL(fileURLWithPath: path))
        let sent = try await alice.sendFile(at: path, to: "bob")
        let blobID = try #require(Hex.decode(sent.id))

        let requests = 300
        let asyncChannel = try await RawTLSClient.connect(port: relay.port, trust: relay.trust).channel
        // The login binds the relay's certificate (PROTOCOL.md 12.3).
        let certificateHash = relay.server.tlsIdentity.certificateHash
        let (servedWhileUnread, received) = try await asyncChannel.executeThenClose { inbound, outbound in
            var frames = FrameReader(inbound.makeAsyncIterator())
            guard case .challenge(let challenge) = try await frames.next(where: { if case .challenge = $0 { true } else { false } })
            else { throw UnreadDownloadFailure.missing("challenge", seen: frames.seen) }
            var login = WireLogin()
            login.username = "bob"
            login.signature = Data(try RelayAuthentication.sign(
                purpose: .login, nonce: Array(challenge.nonce), username: "bob", serverCertificateHash: certificateHash,
                identity: bob.identity
            ))
            try await outbound.write(Self.frame(.login(login), requestID: 1))
            // Deliveries and notices may come around the welcome: bob has alice's file offer queued.
            guard case .welcome = try await frames.next(where: { if case .welcome = $0 { true } else { false } })
            else { throw UnreadDownloadFailure.missing("welcome", seen: frames.seen) }

            var burst = ByteBuffer()
            for index in 0..<requests {
                var request = WireBlobChunkRequest()
                request.blobID = Data(blobID)
                request.index = 0
                var requestBuffer = Self.frame(.blobChunkRequest(request), requestID: UInt64(2 + index))
                burst.writeBuffer(&requestBuffer)
            }
            try await outbound.write(burst)
            // Nothing is read now: wait until the relay has stopped sending (bounded).
            let served = await counter.settledChunks(ofSize: ChatClient.fileChunkSize)
            // Reading again, every chunk asked for arrives.
            var chunks = 0
            while chunks < requests, let frame = try await frames.next() {
                if case .blobChunk = frame.body { chunks += 1 }
            }
            return (served, chunks)
        }
        // The kernel's socket buffers and NIO's write watermark hold some tens of chunks; a
        // relay that ignored the backlog would have sent all 300 into its own memory.
        #expect(servedWhileUnread < requests / 2, "\(servedWhileUnread) of \(requests) chunks served to a client that read none")
        #expect(received == requests)
        await alice.stop()
        await relay.stop()
    }

    private static func frame(_ body: WireClientFrame.OneOf_Body, requestID: UInt64) -> ByteBuffer {
        var frame = WireClientFrame()
        frame.requestID = requestID
        frame.body = body
        return CoalescingFrameWriter.framed(frame.encodedBytes)
    }
}

private enum UnreadDownloadFailure: Error {
    /// The frame never came; `seen` lists the frames that came instead.
    case missing(String, seen: [String])
}

/// Server frames from a TLS byte stream, read only when asked for.
private struct FrameReader {
    var bytes: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var buffer = ByteBuffer()
    var seen: [String] = []

    init(_ bytes: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.bytes = bytes
    }

    /// The body of the next frame that `matches`, skipping at most 100 others.
    mutating func next(where matches: (WireServerFrame.OneOf_Body) -> Bool) async throws -> WireServerFrame.OneOf_Body? {
        for _ in 0..<100 {
            guard let body = try await next()?.body else { return nil }
            seen.append("\(body)".prefix(120).description)
            if matches(body) { return body }
        }
        return nil
    }

    mutating func next() async throws -> WireServerFrame? {
        while true {
            if let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self), buffer.readableBytes >= 4 + Int(length) {
                buffer.moveReaderIndex(forwardBy: 4)
                return try WireServerFrame(serializedBytes: buffer.readBytes(length: Int(length))!)
            }
            guard var more = try await bytes.next() else { return nil }
            buffer.writeBuffer(&more)
        }
    }
}

/// Counts the file bytes the relay sent to downloaders.
private final class FileBytesCounter: RelayObserver {
    private let sentBytes = Atomic<Int>(0)

    /// The chunks sent so far, once no more have been sent for a second (at most 20 s).
    func settledChunks(ofSize chunkSize: Int) async -> Int {
        var last = -1
        for _ in 0..<20 {
            try? await Task.sleep(for: .seconds(1))
            let now = sentBytes.load(ordering: .relaxed)
            if now == last { break }
            last = now
        }
        return sentBytes.load(ordering: .relaxed) / (chunkSize + 16)
    }

    func fileChunkTransferred(bytes: Int, direction: FileTransferDirection) {
        if direction == .out { sentBytes.add(bytes, ordering: .relaxed) }
    }
    func envelopeAccepted(bytes: Int) {}
    func envelopeDelivered(bytes: Int, latencyMilliseconds: UInt64) {}
    func envelopesAcknowledged(count: Int) {}
    func envelopesExpired(count: Int) {}
    func limitHit(_ limit: RelayLimit) {}
    func authenticationFailed(_ reason: AuthenticationFailure) {}
    func malformedFrame() {}
    func storeError(_ operation: StoreOperation, _ error: any Error) {}
}
