import CipherClient
import CipherNIO
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging

/// A relay in this process, as `Tests/CipherServerTests/Support/TestRelay.swift` runs one: TLS
/// on a loopback port chosen by the system, a self-signed certificate, a SQLite store in
/// `directory`, and limits raised so the bench measures speed, not the rate limiter.
final class InProcessRelay: @unchecked Sendable {
    let server: RelayServer
    let store: SQLiteRelayStore
    let directory: String
    private let running: Task<Void, any Error>

    var endpoint: ServerEndpoint { get throws { try ServerEndpoint("127.0.0.1:\(server.localAddress.port ?? 0)") } }
    var trust: RelayTLS.ServerTrust { .pinned(certificateHash: server.tlsIdentity.certificateHash) }

    static func start(in directory: String) async throws -> InProcessRelay {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = ServerConfiguration(dataDirectory: directory)
        configuration.port = 0
        configuration.relay.messagesPerSecond = 1e9
        configuration.relay.messageBurst = 1_000_000_000
        configuration.relay.maxConnectionsPerAddress = 10_000
        configuration.relay.queueQuota = 10_000_000
        var logger = Logger(label: "cipherchat.bench.relay")
        logger.logLevel = .error
        let store = try SQLiteRelayStore(path: directory + "/relay.sqlite")
        let server = try await RelayServer(
            configuration: configuration, store: store, securityLog: try FileSecurityLog(directory: directory), logger: logger
        )
        return InProcessRelay(server: server, store: store, directory: directory)
    }

    private init(server: RelayServer, store: SQLiteRelayStore, directory: String) {
        self.server = server
        self.store = store
        self.directory = directory
        running = Task { try await server.run() }
    }

    func stop() async {
        await server.shutdown()
        _ = await running.result
        try? await store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
