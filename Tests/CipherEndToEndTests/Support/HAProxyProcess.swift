import CipherTesting
import Foundation
import Glibc

/// Debian's HAProxy in TCP mode on a loopback port, balancing round robin over relay
/// instances, as an operator puts one in front of several. A backend that stops answering is
/// taken out by the health check within a fraction of a second; `option redispatch` sends a
/// connection that fails to reach one to the other. Killed when released.
final class HAProxyProcess {
    static let executable = URL(fileURLWithPath: RequiredTool.haproxy.path)
    private static let startAttempts = 5

    private let directory: TemporaryDirectory
    private var process: ChildProcess?
    let port: Int

    /// With `proxyHeaderSource`, HAProxy connects to the relays from that loopback address and
    /// begins each connection with a PROXY protocol v2 header naming the client.
    init(backends: [RelayEndpoint], proxyHeaderSource: String? = nil) async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.executable.path) else {
            throw HarnessError("HAProxy is not installed (apt-get install haproxy)")
        }
        directory = try TemporaryDirectory(prefix: "haproxy")
        var failures: [String] = []
        for attempt in 0..<Self.startAttempts {
            let port = try LoopbackPort.free()
            let configuration = directory.url.appending(path: "haproxy-\(attempt).cfg")
            try Self.configuration(port: port, backends: backends, proxyHeaderSource: proxyHeaderSource).write(to: configuration, atomically: true, encoding: .utf8)
            let child = try ChildProcess(
                executable: Self.executable, arguments: ["-db", "-f", configuration.path],
                environment: ProcessInfo.processInfo.environment,
                standardOutput: directory.url.appending(path: "haproxy-\(attempt).out"),
                standardError: directory.url.appending(path: "haproxy-\(attempt).err")
            )
            if try await LoopbackPort.waitUntilListening(port, while: { child.exitStatus == nil }) {
                process = child
                self.port = port
                return
            }
            child.signal(SIGKILL)
            failures.append(child.readStandardError())
        }
        throw HarnessError("HAProxy did not start:\n\(failures.joined(separator: "\n---\n"))")
    }

    deinit {
        process?.signal(SIGKILL)
    }

    /// The address clients use, with the certificate every instance presents.
    func endpoint(fingerprint: String) -> RelayEndpoint {
        RelayEndpoint(host: "127.0.0.1", port: port, fingerprint: fingerprint)
    }

    private static func configuration(port: Int, backends: [RelayEndpoint], proxyHeaderSource: String?) -> String {
        let proxyHeader = proxyHeaderSource.map { " source \($0) send-proxy-v2" } ?? ""
        let servers = backends.enumerated().map { index, backend in
            "    server relay\(index) \(backend.host):\(backend.port)\(proxyHeader) check inter 200ms fall 1 rise 2"
        }
        return """
            global
                maxconn 4000
            defaults
                mode tcp
                timeout connect 2s
                timeout client 5m
                timeout server 5m
                retries 3
                option redispatch
            frontend relays
                bind 127.0.0.1:\(port)
                default_backend instances
            backend instances
                balance roundrobin
            \(servers.joined(separator: "\n"))

            """
    }
}

/// Loopback ports for processes the tests start.
enum LoopbackPort {
    /// A port that was free a moment ago (the system's choice for port 0); a caller that fails
    /// to bind it tries again.
    static func free() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket() failed") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard bound else { throw HarnessError("cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on `port` before `timeout`, polling while
    /// `alive` holds.
    static func waitUntilListening(_ port: Int, timeout: Duration = .seconds(30), while alive: () -> Bool) async throws -> Bool {
        let deadline = Patience.deadline(timeout)
        while ContinuousClock.now < deadline, alive() {
            if accepts(port) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    private static func accepts(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

extension RelayEndpoint {
    init(host: String, port: Int, fingerprint: String) {
        self.host = host
        self.port = port
        self.fingerprint = fingerprint
    }
}
