#if canImport(Glibc)
import Glibc
#endif
import CipherNIO
import Foundation

/// What the throughput section sends through: one relay on SQLite (the default), one on
/// PostgreSQL, or two on one PostgreSQL database behind HAProxy. Relays run as child
/// processes; their CPU time is summed.
final class RelayDeployment: @unchecked Sendable {
    enum Kind: Sendable, CustomStringConvertible {
        case sqlite
        case postgres(url: String)
        case postgresBehindHAProxy(url: String, haproxy: String)

        var description: String {
            switch self {
            case .sqlite: "1 relay on SQLite"
            case .postgres: "1 relay on PostgreSQL"
            case .postgresBehindHAProxy: "2 relays on PostgreSQL behind HAProxy (round robin: each pair's sender and receiver on different relays)"
            }
        }
    }

    let relays: [RelayChildProcess]
    private let proxy: HAProxyChild?

    var host: String { "127.0.0.1" }
    var port: Int { proxy?.port ?? relays[0].port }
    var trust: RelayTLS.ServerTrust { relays[0].trust }

    /// The relays' user plus system CPU seconds so far.
    func cpuSeconds() -> Double { relays.map { $0.cpuSeconds() }.reduce(0, +) }

    static func start(_ kind: Kind, in directory: String) throws -> RelayDeployment {
        switch kind {
        case .sqlite:
            return RelayDeployment(relays: [try RelayChildProcess.start(in: directory)], proxy: nil)
        case .postgres(let url):
            return RelayDeployment(relays: [try RelayChildProcess.start(in: directory, extraArguments: ["--postgres", url])], proxy: nil)
        case .postgresBehindHAProxy(let url, let haproxy):
            let first = try RelayChildProcess.start(in: directory + "/a", extraArguments: ["--postgres", url])
            // One certificate for the service: clients pin it.
            let second: RelayChildProcess
            do {
                second = try RelayChildProcess.start(in: directory + "/b", extraArguments: [
                    "--postgres", url, "--tls-cert", directory + "/a/relay-cert.pem", "--tls-key", directory + "/a/relay-key.pem",
                ])
            } catch {
                first.stop()
                throw error
            }
            do {
                let proxy = try HAProxyChild.start(executable: haproxy, backends: [first.port, second.port], in: directory)
                return RelayDeployment(relays: [first, second], proxy: proxy)
            } catch {
                first.stop()
                second.stop()
                throw error
            }
        }
    }

    private init(relays: [RelayChildProcess], proxy: HAProxyChild?) {
        self.relays = relays
        self.proxy = proxy
    }

    func stop() {
        proxy?.stop()
        for relay in relays { relay.stop() }
    }
}

/// HAProxy in TCP mode on a loopback port the system picked, balancing round robin.
final class HAProxyChild: @unchecked Sendable {
    let process: Process
    let port: Int

    static func start(executable: String, backends: [Int], in directory: String) throws -> HAProxyChild {
        let port = try freeLoopbackPort()
        let servers = backends.enumerated().map { "    server relay\($0.offset) 127.0.0.1:\($0.element)" }
        let configuration = """
            global
                maxconn 5000
            defaults
                mode tcp
                timeout connect 2s
                timeout client 5m
                timeout server 5m
            frontend relays
                bind 127.0.0.1:\(port)
                default_backend instances
            backend instances
                balance roundrobin
            \(servers.joined(separator: "\n"))

            """
        let path = directory + "/haproxy.cfg"
        try configuration.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-db", "-f", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.standardError
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, process.isRunning {
            if accepts(port) { return HAProxyChild(process: process, port: port) }
            usleep(20_000)
        }
        process.terminate()
        throw BenchFailure(description: "HAProxy did not listen on 127.0.0.1:\(port)")
    }

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// A port the system picked for a socket bound to port 0, then released.
    private static func freeLoopbackPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BenchFailure(description: "socket() failed") }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw BenchFailure(description: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
}
