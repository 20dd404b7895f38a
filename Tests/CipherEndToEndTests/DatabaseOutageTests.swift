import CipherTesting
import Foundation
import Testing

/// A relay on PostgreSQL whose database stops (`pg_ctl stop -m fast`) while it runs, driven with
/// the real binaries: it stops on SIGTERM within its grace period, refuses what it cannot store
/// with `store_unavailable` instead of hanging, and clients keep such messages in their outbox
/// and send them, once each, when the database is back.
@Suite("The relay through an outage of its PostgreSQL", RequiredTool.postgres.trait, .timeLimit(.minutes(15)))
struct DatabaseOutageTests {
    /// Far above a stop that works (the grace period), far below one that waits for the
    /// database (until killed).
    static let stopBound = Duration.seconds(30)

    @Test("SIGTERM while PostgreSQL is down: exit 0 within the grace period")
    func sigtermDuringOutage() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let relay = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase(), "--shutdown-grace-seconds", "5", "--store-timeout-seconds", "5"])
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before the outage", to: "bob")

        try cluster.stopServer()
        // Store work under way when the signal comes: a send waiting for the database.
        let sending = try alice.launch(["send"], ["bob", "during the outage"])
        defer { sending.signal(SIGKILL) }
        try await Task.sleep(for: .seconds(1))

        let bound = Patience.scaled(Self.stopBound)
        let stopping = ContinuousClock.now
        let status = try await relay.stop(timeout: bound)
        let took = ContinuousClock.now - stopping
        #expect(status == 0, "the relay exited \(status):\n\(relay.readLogs())")
        #expect(took < bound, "the relay took \(took) to stop")
    }

    @Test("send during the outage: store_unavailable within bounds, kept in the outbox, delivered exactly once after")
    func sendDuringOutage() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let relay = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase(), "--store-timeout-seconds", "5"])
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before the outage", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["before the outage"])

        try cluster.stopServer()
        // The relay answers within its store deadline that it cannot store.
        var bound = Patience.scaled(.seconds(40))
        var started = ContinuousClock.now
        let refused = try await alice.run("send", ["--timeout", "60", "bob", "first during the outage"])
        var took = ContinuousClock.now - started
        #expect(refused.status == 9, "\(refused)")
        #expect(refused.standardError.contains("store_unavailable"), "\(refused)")
        #expect(refused.standardError.contains(Self.keptText), "\(refused)")
        #expect(took < bound, "the relay took \(took) to refuse")
        // The operator sees it at the default level, with what the relay was doing.
        let logs = relay.readLogs()
        #expect(logs.contains("error") && logs.contains("the store is unavailable") && logs.contains("operation="), "\(logs)")

        // The client's own timeout holds, whatever the relay does.
        bound = Patience.scaled(.seconds(20))
        started = ContinuousClock.now
        let timedOut = try await alice.run("send", ["--timeout", "1", "bob", "second during the outage"])
        took = ContinuousClock.now - started
        #expect(timedOut.status == 9, "\(timedOut)")
        #expect(timedOut.standardError.contains(Self.keptText), "\(timedOut)")
        #expect(took < bound, "send --timeout 1 took \(took)")

        try cluster.startAgain()
        // A command that connects but sends nothing of its own sends the outbox; the relay's
        // pool may take a few seconds to connect again, so it is run until both arrived.
        var texts: [String] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline, texts.count < 2 {
            _ = try await alice.run("fingerprint", ["bob"])
            let received = try? await bob.receive()
            texts += received?.map(\.text) ?? []
            if texts.count < 2 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(texts.sorted() == ["first during the outage", "second during the outage"], "bob got \(texts)")
        _ = try await alice.run("fingerprint", ["bob"])
        #expect(try await bob.receive().isEmpty, "delivered again")
        #expect(relay.processIdentifier != nil, "the relay exited during the outage:\n\(relay.readLogs())")
    }

    @Test("send through a daemon during the outage: the same exit 9 and the same words; the daemon delivers it once after")
    func sendThroughDaemonDuringOutage() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let relay = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase(), "--store-timeout-seconds", "5"])
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before the outage", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["before the outage"])
        let daemon = try await alice.startDaemon()
        defer { daemon.signal(SIGKILL) }

        try cluster.stopServer()
        let refused = try await alice.run("send", ["--timeout", "60", "bob", "through the daemon during the outage"])
        #expect(refused.status == 9, "\(refused)")
        #expect(refused.standardError.contains(Self.keptText), "\(refused)")
        #expect(daemon.exitStatus == nil, "the daemon exited: \(daemon.readStandardError())")

        try cluster.startAgain()
        // The daemon sends its outbox once the relay can store again (its retry), with no
        // command of alice's.
        var texts: [String] = []
        let deadline = Patience.deadline(.seconds(120))
        while ContinuousClock.now < deadline, texts.isEmpty {
            texts += (try? await bob.receive())?.map(\.text) ?? []
            if texts.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(texts == ["through the daemon during the outage"], "bob got \(texts)")
        try await Task.sleep(for: .seconds(2))
        #expect(try await bob.receive().isEmpty, "delivered again")
    }

    static let keptText = "the relay has not confirmed the message: it stays in the outbox and is sent when the relay can store it"
}
