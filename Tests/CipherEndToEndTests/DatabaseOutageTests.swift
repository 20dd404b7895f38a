import CipherTesting
import Foundation
import Testing

/// A relay on PostgreSQL whose database stops (`pg_ctl stop -m fast`) while it runs, driven with
/// the real binaries: it stops on SIGTERM within its grace period, refuses what it cannot store
/// with `store_unavailable` instead of hanging, and clients keep such messages in their outbox
/// and send them, once each, when the database is back.
@Suite("The relay through an outage of its PostgreSQL", .timeLimit(.minutes(5)))
struct DatabaseOutageTests {
    /// Far above a stop that works (the grace period), far below one that waits for the
    /// database (until killed).
    static let stopBound = Duration.seconds(30)

    @Test("SIGTERM while PostgreSQL is down: exit 0 within the grace period")
    func sigtermDuringOutage() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let relay = try await RelayProcess(arguments: ["--postgres", try cluster.createDatabase(), "--shutdown-grace-seconds", "5"])
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("before the outage", to: "bob")

        try cluster.stopServer()
        // Store work under way when the signal comes: a send waiting for the database.
        let sending = try alice.launch(["send"], ["bob", "during the outage"])
        defer { sending.signal(SIGKILL) }
        try await Task.sleep(for: .seconds(1))

        let stopping = ContinuousClock.now
        let status = try await relay.stop(timeout: Self.stopBound)
        let took = ContinuousClock.now - stopping
        #expect(status == 0, "the relay exited \(status):\n\(relay.readLogs())")
        #expect(took < Self.stopBound, "the relay took \(took) to stop")
    }
}
