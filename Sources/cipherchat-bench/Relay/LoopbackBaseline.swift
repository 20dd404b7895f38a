#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The floor for every latency figure, measured in the same run: a 200-byte round trip over
/// plain TCP on 127.0.0.1 between two threads of this process with blocking sockets, no TLS,
/// no framing, no event loop.
enum LoopbackBaseline {
    static func roundTrips(count: Int, bytes: Int = 200, budget: Duration) throws -> SampleSet {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw BenchFailure(description: "socket failed") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withSocketAddress(&address) { pointer in
            guard bind(listener, pointer, length) == 0, listen(listener, 1) == 0 else { throw BenchFailure(description: "bind failed") }
            guard getsockname(listener, pointer, &length) == 0 else { throw BenchFailure(description: "getsockname failed") }
        }
        let echo = Thread {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            setNoDelay(connection)
            var buffer = [UInt8](repeating: 0, count: bytes)
            while readFully(connection, &buffer) { guard writeFully(connection, buffer) else { break } }
            close(connection)
        }
        echo.start()
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        try withSocketAddress(&address) { pointer in
            guard connect(client, pointer, length) == 0 else { throw BenchFailure(description: "connect failed") }
        }
        setNoDelay(client)
        let message = [UInt8](repeating: UInt8(ascii: "m"), count: bytes)
        var reply = [UInt8](repeating: 0, count: bytes)
        var samples = SampleSet()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        for index in 0..<(count + count / 10) where clock.now < deadline {
            let start = clock.now
            guard writeFully(client, message), readFully(client, &reply) else { throw BenchFailure(description: "echo failed") }
            // The first tenth warms up caches and the scheduler, and is not counted.
            if index >= count / 10 { samples.append(start.duration(to: clock.now)) }
        }
        return samples
    }

    private static func withSocketAddress(
        _ address: inout sockaddr_in, _ body: (UnsafeMutablePointer<sockaddr>) throws -> Void
    ) rethrows {
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1, body)
        }
    }

    private static func setNoDelay(_ descriptor: Int32) {
        var one: Int32 = 1
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    private static func readFully(_ descriptor: Int32, _ buffer: inout [UInt8]) -> Bool {
        var done = 0
        let total = buffer.count
        while done < total {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress! + done, total - done) }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }

    private static func writeFully(_ descriptor: Int32, _ buffer: [UInt8]) -> Bool {
        var done = 0
        while done < buffer.count {
            let count = buffer.withUnsafeBytes { write(descriptor, $0.baseAddress! + done, buffer.count - done) }
            guard count > 0 else { return false }
            done += count
        }
        return true
    }
}

/// The other floor under a durable message: one 4 KiB write plus `fdatasync` in the directory
/// that holds the stores, as SQLite's WAL commit with `synchronous = FULL` does at least once.
enum SyncBaseline {
    static func writeAndSync(in directory: String, count: Int, budget: Duration) throws -> SampleSet {
        let path = directory + "/sync-probe"
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw BenchFailure(description: "cannot create \(path)") }
        defer {
            close(descriptor)
            unlink(path)
        }
        let block = [UInt8](repeating: 7, count: 4096)
        var samples = SampleSet()
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        for index in 0..<count where index == 0 || clock.now < deadline {
            let start = clock.now
            let written = block.withUnsafeBytes { pwrite(descriptor, $0.baseAddress!, block.count, off_t(index % 16) * 4096) }
            guard written == block.count, fdatasync(descriptor) == 0 else { throw BenchFailure(description: "write failed") }
            samples.append(start.duration(to: clock.now))
        }
        return samples
    }
}
