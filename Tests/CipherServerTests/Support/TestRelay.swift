import CipherClient
import CipherCore
import CipherNIO
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging
import NIOCore

/// A real relay in this process: TLS on a loopback port, a SQLite store in a temporary
/// directory, the security log beside it.
final class TestRelay: @unchecked Sendable {
    let server: RelayServer
    let store: SQLiteRelayStore
    let directory: String
    private let running: Task<Void, any Error>

    var port: Int { server.localAddress.port! }
    var endpoint: ServerEndpoint { try! ServerEndpoint("127.0.0.1:\(port)") }
    var trust: RelayTLS.ServerTrust { .pinned(certificateHash: server.tlsIdentity.certificateHash) }

    static func start(
        directory existing: String? = nil, port: Int = 0, observer: any RelayObserver = SilentRelayObserver(),
        proxyFrom: [AddressRange] = [], configure: (inout RelayConfiguration) -> Void = { _ in }
    ) async throws -> TestRelay {
        let directory = existing ?? FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-relay-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var configuration = ServerConfiguration(dataDirectory: directory)
        configuration.port = port
        // Test clients that ignore GoingAway need not hold up a stop for long.
        configuration.shutdownGraceSeconds = 1
        // A client's login waits for a cooperative thread; under a busy suite that can take
        // longer than the relay's default minute, and no test here is about that timeout.
        configuration.relay.authenticationTimeoutSeconds = 600
        configuration.proxyProtocolSources = proxyFrom
        configure(&configuration.relay)
        let store = try SQLiteRelayStore(path: directory + "/relay.sqlite")
        let server = try await RelayServer(
            configuration: configuration, store: store, securityLog: try FileSecurityLog(directory: directory),
            logger: Logger(label: "test-relay"), observer: observer
        )
        return TestRelay(server: server, store: store, directory: directory)
    }

    private init(server: RelayServer, store: SQLiteRelayStore, directory: String) {
        self.server = server
        self.store = store
        self.directory = directory
        running = Task { try await server.run() }
    }

    func stop(keepingData: Bool = false) async {
        await server.shutdown()
        _ = await running.result
        try? await store.close()
        if !keepingData { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// A relay on a port below the system's ephemeral range (32768 and up on Linux), for a
    /// test that restarts it on the same port: a port the system picked could be handed to
    /// another test's outgoing connection while the relay is down, and then not be free again.
    static func startOnRestartablePort() async throws -> TestRelay {
        for _ in 0..<50 {
            do {
                return try await start(port: Int.random(in: 20_000..<32_000))
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                continue
            }
        }
        return try await start()
    }

    /// Stops this relay and starts another on the same port and data: a restart.
    func restarted() async throws -> TestRelay {
        let port = self.port
        await stop(keepingData: true)
        return try await TestRelay.start(directory: directory, port: port)
    }

    static func temporaryHome() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-home-\(UUID().uuidString)").path
    }

    /// A registered user with a fresh identity in a temporary home.
    func makeUser(_ name: String, home: String = TestRelay.temporaryHome()) async throws -> ChatClient {
        return try await ChatClient.create(
            home: home, passphrase: "test passphrase", endpoint: endpoint, username: name, trust: trust,
            kdf: .scrypt(logN: 10, r: 8, p: 1)
        )
    }
}

/// Collects a client's events so a test can wait for what it expects, with a bound.
actor EventCollector {
    private(set) var messages: [ChatRecord] = []
    private(set) var warnings: [String] = []
    private var task: Task<Void, Never>?

    init() {}

    func follow(_ client: ChatClient) {
        let events = client.events
        task = Task {
            for await event in events { self.record(event) }
        }
    }

    private func record(_ event: ClientEvent) {
        switch event {
        case .message(let record): messages.append(record)
        case .warning(let text): warnings.append(text)
        default: break
        }
    }

    /// Waits until `condition` holds, at most `seconds`.
    func wait(seconds: Double = 30, until condition: @Sendable (EventCollector) async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while ContinuousClock.now < deadline {
            if await condition(self) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return await condition(self)
    }

    var texts: [String] { messages.map(\.text) }
}
