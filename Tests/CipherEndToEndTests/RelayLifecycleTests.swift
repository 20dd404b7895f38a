import CipherTesting
import Foundation
import Testing

@Suite("The relay's process life", .timeLimit(.minutes(15)))
struct RelayLifecycleTests {
    @Test("acknowledged messages survive the relay being killed, and arrive exactly once")
    func acknowledgedMessagesSurviveSIGKILL() async throws {
        let relay = try await RelayProcess()
        let before = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: before).requireSuccess()
        try await bob.initialize(on: before).requireSuccess()

        // `send` exits 0 only once the relay has stored the message durably.
        let texts = (1...5).map { "before the crash \($0)" }
        for text in texts {
            try await alice.send(text, to: "bob")
        }
        try await relay.kill()
        try await relay.restart()
        let after = try relay.requireEndpoint()
        #expect(after == before, "the restarted relay moved: \(after) after \(before)")

        let received = try await bob.receive()
        #expect(received.map(\.text) == texts)
        #expect(Set(received.map(\.id)).count == received.count, "ids repeat: \(received.map(\.id))")
        let again = try await bob.receive()
        #expect(again.isEmpty, "delivered again after the restart: \(again.map(\.text))")

        // The sessions carry on across the restart, both ways.
        try await bob.send("after the crash", to: "alice")
        #expect(try await alice.receive().map(\.text) == ["after the crash"])
    }

    @Test("an existing data directory open to others is made private to its owner, and the TLS key is 0600")
    func dataDirectoryTightened() async throws {
        let relay = try await RelayProcess()
        try await relay.stop()
        let data = relay.dataDirectory.path
        #expect(chmod(data, 0o755) == 0)
        try await relay.restart()
        #expect(Self.mode(of: data) == 0o700)
        #expect(Self.mode(of: relay.dataDirectory.appending(path: "relay-key.pem").path) == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: data).filter { $0.contains(".partial") }
        #expect(leftovers.isEmpty, "\(leftovers)")
        try await relay.stop()
    }

    @Test("a relay whose relay.sqlite is damaged refuses to start and says what to do, leaving the file as it was")
    func damagedStoreRefused() async throws {
        let relay = try await RelayProcess()
        try await UserHome("alice").initialize(on: relay.requireEndpoint()).requireSuccess()
        try await relay.stop()
        let database = relay.dataDirectory.appending(path: "relay.sqlite")
        let handle = try FileHandle(forUpdating: database)
        let size = try handle.seekToEnd()
        try #require(size > 8192, "relay.sqlite holds \(size) bytes after a clean stop")
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()
        let damaged = try Data(contentsOf: database)

        let failure = await #expect(throws: HarnessError.self) { try await relay.restart() }
        #expect(failure?.description.contains("the database is damaged") == true, "\(String(describing: failure))")
        #expect(try Data(contentsOf: database) == damaged, "the refused database was changed")
    }

    @Test("with the relay down, send says it cannot reach it and keeps the message, which goes once the relay is back")
    func sendWhileRelayDown() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before", to: "bob")
        let address = try relay.requireEndpoint().address
        try await relay.stop()

        let sent = try await alice.run("send", ["bob", "while the relay is down"])
        #expect(sent.status == 9, "\(sent)")
        #expect(sent.standardError.contains("cannot reach the relay at \(address) (connection refused"), "\(sent)")
        #expect(sent.standardError.contains("it stays in the outbox"), "\(sent)")
        #expect(!sent.standardError.contains("SingleConnectionFailure"), "\(sent)")
        let received = try await bob.run("recv", ["--json"])
        #expect(received.status == 1 && received.standardError.contains("cannot reach the relay at \(address)"), "\(received)")

        try await relay.restart()
        _ = try await alice.run("fingerprint", ["bob"]).requireSuccess()
        #expect(try await bob.receive().map(\.text) == ["before", "while the relay is down"])
    }

    @Test("a port already taken: the relay names the listener, the address and the flag that moves it")
    func portTaken() async throws {
        let relay = try await RelayProcess()
        let endpoint = try relay.requireEndpoint()
        let metricsPort = try relay.requireMonitoring().port
        let directory = try TemporaryDirectory(prefix: "second-relay")
        for (arguments, expected) in [
            (["--port", "\(endpoint.port)", "--metrics-port", "0"], "the relay listener cannot use 127.0.0.1:\(endpoint.port): another process is listening there; choose another port with --port"),
            (["--port", "0", "--metrics-port", "\(metricsPort)"], "the monitoring listener cannot use 127.0.0.1:\(metricsPort): another process is listening there; choose another port with --metrics-port"),
        ] {
            let second = try await ChildProcess.run(
                CipherBinary.url(), ["server", "--data", directory.url.appending(path: "data").path] + arguments,
                environment: CipherBinary.environment(), outputDirectory: directory.url, timeout: Patience.scaled(.seconds(60))
            )
            #expect(second.status != 0, "\(second)")
            #expect(second.standardError.contains(expected), "\(second)")
        }
        try await relay.stop()
    }

    private static func mode(of path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o777
    }

    @Test("SIGTERM stops the relay cleanly: exit 0 and no error")
    func stopsCleanlyOnSIGTERM() async throws {
        let relay = try await RelayProcess()
        let alice = try UserHome("alice")
        try await alice.initialize(on: relay.requireEndpoint()).requireSuccess()

        let status = try await relay.stop()
        let logs = relay.readLogs()
        #expect(status == 0, "the relay exited \(status) on SIGTERM; it printed:\n\(logs)")
        #expect(!logs.localizedCaseInsensitiveContains("error"), "the relay printed an error on SIGTERM:\n\(logs)")
    }

    @Test("SIGTERM as soon as the ready line appears is a graceful stop too")
    func sigtermRightAfterReadyLine() async throws {
        // A supervisor may signal the relay the moment it reads the ready line: the line comes
        // only once the signals are trapped, so the default action (exit 143) never runs.
        for _ in 0..<3 {
            let relay = try await RelayProcess()
            let status = try await relay.stop()
            #expect(status == 0, "the relay exited \(status); it printed:\n\(relay.readLogs())")
        }
    }
}
