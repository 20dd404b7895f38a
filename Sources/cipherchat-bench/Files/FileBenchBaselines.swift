#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What the file transfer is measured against, in the same run: OpenSSL's AES-256-GCM on one
/// core (the cipher alone), and a plain loopback copy of the same bytes (the floor for moving
/// them through a socket to disk with no TLS, no cipher, no relay).
enum FileBenchBaselines {
    /// `openssl speed -elapsed -mr -seconds S -evp aes-256-gcm -bytes B`, in bytes per second;
    /// nil when openssl cannot be run. Spawned directly rather than with Foundation's `Process`:
    /// the child must start with no signal blocked, since openssl's timer is SIGALRM, and a
    /// thread of this process has it blocked.
    static func openSSLAESGCM(bytes: Int, seconds: Int, outputPath: String) -> Double? {
        let arguments = ["openssl", "speed", "-elapsed", "-mr", "-seconds", "\(seconds)", "-evp", "aes-256-gcm", "-bytes", "\(bytes)"]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var alarm = sigset_t()
        sigemptyset(&alarm)
        sigaddset(&alarm, SIGALRM)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &alarm)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, "openssl", &actions, &attributes, &argv, environ) == 0 else { return nil }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        defer { unlink(outputPath) }
        guard let output = try? String(contentsOfFile: outputPath, encoding: .utf8) else { return nil }
        // Machine-readable lines: "+F:N:aes-256-gcm:BYTES_PER_SECOND_FOR_SIZE".
        for line in output.split(separator: "\n") where line.hasPrefix("+F:") {
            if let last = line.split(separator: ":").last, let value = Double(last) { return value }
        }
        return nil
    }

    /// Reads `source`, sends it over TCP on 127.0.0.1 to a thread that writes it to
    /// `destination` and syncs it, as the download does; returns the seconds taken.
    static func loopbackCopy(source: String, destination: String, chunk: Int = 256 * 1024) throws -> Double {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw BenchFailure(description: "socket failed") }
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                guard bind(listener, socketAddress, length) == 0, listen(listener, 1) == 0,
                      getsockname(listener, socketAddress, &length) == 0 else { throw BenchFailure(description: "bind failed") }
            }
        }
        let finished = DispatchSemaphore(value: 0)
        let receiver = Thread {
            defer { finished.signal() }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            defer { close(connection) }
            let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            guard output >= 0 else { return }
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: chunk)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress!, chunk) }
                guard count > 0 else { break }
                guard buffer.withUnsafeBytes({ write(output, $0.baseAddress!, count) }) == count else { break }
            }
            fsync(output)
        }
        let clock = ContinuousClock()
        let start = clock.now
        receiver.start()
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let input = open(source, O_RDONLY)
        guard client >= 0, input >= 0 else { throw BenchFailure(description: "cannot open the source or a socket") }
        defer { close(input) }
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                guard connect(client, socketAddress, length) == 0 else { throw BenchFailure(description: "connect failed") }
            }
        }
        var buffer = [UInt8](repeating: 0, count: chunk)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, chunk) }
            guard count > 0 else { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(client, $0.baseAddress! + sent, count - sent) }
                guard written > 0 else { throw BenchFailure(description: "loopback write failed") }
                sent += written
            }
        }
        close(client)
        finished.wait()
        return start.duration(to: clock.now).seconds
    }
}
