import CipherTesting
import Foundation
import Synchronization
import Testing

@Suite("Stopping the relay gracefully", .timeLimit(.minutes(15)))
struct GracefulShutdownTests {
    @Test("SIGTERM with clients connected: exit 0 as soon as the clients hang up on GoingAway, clients come back, nothing lost or repeated")
    func sigtermWithConnectedClients() async throws {
        // A grace period far longer than the stop may take: clients that hang up on GoingAway
        // end the stop long before it runs out. Whether they did is read from the relay's log,
        // not from a clock, so a busy machine cannot fail the test.
        let relay = try await RelayProcess(arguments: ["--shutdown-grace-seconds", "600"])
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: relay.requireEndpoint()).requireSuccess()
        try await bob.initialize(on: relay.requireEndpoint()).requireSuccess()

        // Bob stays connected, printing what arrives.
        let follower = try bob.follow()
        defer { follower.process.signal(SIGKILL) }
        try await alice.send("while running", to: "bob")
        try await follower.waitForTexts(["while running"])

        // Accepted (stored durably) just before the relay is told to stop.
        try await alice.send("just before the stop", to: "bob")
        let status = try await relay.stop(timeout: .seconds(300))
        let logs = relay.readLogs()
        #expect(status == 0, "the relay exited \(status) on SIGTERM:\n\(logs)")
        #expect(
            !logs.contains("still open after the grace period"),
            "the relay waited out its grace period: its clients did not hang up on GoingAway:\n\(logs)"
        )
        #expect(!logs.localizedCaseInsensitiveContains("error"), "the relay printed an error on SIGTERM:\n\(logs)")
        #expect(logs.contains("stopping"), "the relay did not say it was stopping:\n\(logs)")

        // Bob's client reconnects by itself once the relay is back, and everything arrives once.
        try await relay.restart()
        try await alice.send("after the restart", to: "bob")
        let texts = try await follower.waitForTexts(["while running", "just before the stop", "after the restart"])
        #expect(texts == ["while running", "just before the stop", "after the restart"], "bob saw \(texts)")
        #expect(follower.process.exitStatus == nil, "bob's client exited: \(follower.process.readStandardError())")
        follower.process.signal(SIGTERM)
        #expect(try await bob.receive().isEmpty, "delivered again after the restart")
    }

    @Test("/readyz says draining, with 503, while the relay waits for clients to hang up")
    func readinessWhileDraining() async throws {
        // A client that holds its connection open without logging in keeps the relay draining
        // for the whole grace period.
        let relay = try await RelayProcess(arguments: ["--shutdown-grace-seconds", "600"])
        let monitoring = try relay.requireMonitoring()
        let endpoint = try relay.requireEndpoint()
        let socket = try LingeringConnection(host: endpoint.host, port: endpoint.port)
        #expect(try await monitoring.get("/readyz").status == 200)
        // The kernel completes the connection before the relay accepts it: wait (bounded)
        // until the relay counts it, or a stop right now would find nothing to wait for.
        let counted = try await Patience.poll(upTo: .seconds(30), every: .milliseconds(50)) {
            PrometheusSamples(try await monitoring.get("/metrics").body).value("cipherchat_connections_open") == 1
        }
        try #require(counted, "the relay never counted the open connection")

        guard let pid = relay.processIdentifier else { throw HarnessError("the relay is not running") }
        kill(pid, SIGTERM)
        var seen: MonitoringEndpoint.Response?
        _ = try await Patience.poll(upTo: .seconds(30)) {
            let answer = try await monitoring.get("/readyz")
            if answer.status != 200 { seen = answer }
            return seen != nil
        }
        #expect(seen?.status == 503)
        #expect(seen?.body == "{\"status\":\"draining\"}\n")
        #expect(try await monitoring.get("/healthz").status == 200, "alive while draining")
        // Once the last client hangs up, the relay ends without waiting out the grace period.
        socket.close()
        let status = try await relay.stop(timeout: .seconds(300))
        #expect(status == 0)
        #expect(!relay.readLogs().contains("still open after the grace period"), "the relay waited out its grace period")
    }
}

/// A plain TCP connection to the relay that sends nothing: the relay counts it open until it
/// closes it. Closed when released, if not before.
final class LingeringConnection: Sendable {
    private let descriptor: Mutex<Int32>

    init(host: String, port: Int) throws {
        let opened = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard opened >= 0 else { throw HarnessError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(opened, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(opened)
            throw HarnessError("cannot connect to \(host):\(port)")
        }
        descriptor = Mutex(opened)
    }

    deinit {
        close()
    }

    func close() {
        descriptor.withLock { open in
            guard open >= 0 else { return }
            Glibc.close(open)
            open = -1
        }
    }
}

/// `cipherchat recv --json --follow` running in the background.
struct FollowingReceiver {
    let process: ChildProcess

    /// The texts printed so far, once `expected` are among them (at most 60 s).
    @discardableResult
    func waitForTexts(_ expected: [String]) async throws -> [String] {
        let deadline = Patience.deadline(.seconds(60))
        while ContinuousClock.now < deadline {
            let texts = try process.readStandardOutput().split(separator: "\n").map { try ReceivedMessage(jsonLine: String($0)).text }
            if Set(expected).isSubset(of: texts) { return texts }
            if process.exitStatus != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError(
            "bob's client did not print \(expected):\n\(process.readStandardOutput())\n\(process.readStandardError())"
        )
    }
}

extension UserHome {
    /// Starts `cipherchat recv --json --follow` for this user.
    func follow() throws -> FollowingReceiver {
        let output = home.deletingLastPathComponent().appending(path: "follow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        let process = try ChildProcess(
            executable: CipherBinary.url(), arguments: ["recv", "--home", home.path, "--json", "--follow"],
            environment: CipherBinary.environment([
                "CIPHERCHAT_PASSPHRASE": passphrase, "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
            ]),
            standardOutput: output.appending(path: "out"), standardError: output.appending(path: "err")
        )
        return FollowingReceiver(process: process)
    }
}
