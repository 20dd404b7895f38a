import CipherPostgres
import CipherRelay
import CipherTesting
import Foundation
import Testing

/// The PostgreSQL store while its server is stopped (`pg_ctl stop -m fast`): each operation
/// ends within its deadline with `StoreUnavailableError`, and the store works again once the
/// server is back, without being reopened.
@Suite("PostgreSQL store through an outage", RequiredTool.postgres.trait, .timeLimit(.minutes(15)))
struct PostgresOutageTests {
    /// Far above the store's deadline, far below postgres-nio's wait for a connection (none).
    static let answerBound = Duration.seconds(20)

    @Test("operations during the outage fail with store_unavailable within their deadline; the store recovers")
    func operationsDuringOutage() async throws {
        // A cluster of its own: stopping the shared one would fail the other suites' tests.
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let store = try await PostgresRelayStore.connect(
            to: PostgresLocation(url: try cluster.createDatabase()), logger: .quiet, operationTimeout: .seconds(1)
        )
        #expect(try await store.createAccount(Fixtures.account("alice")) == .created)

        try cluster.stopServer()
        for operation in ["account", "enqueue", "queued count"] {
            let bound = Patience.scaled(Self.answerBound)
            let started = ContinuousClock.now
            await #expect(throws: StoreUnavailableError.self, "\(operation)") {
                switch operation {
                case "account": _ = try await store.account(named: "alice")
                case "enqueue": _ = try await store.enqueue(Fixtures.envelope(from: "bob", to: "alice", clientID: 1), quota: 100)
                default: _ = try await store.queuedCount(for: "alice")
                }
            }
            let took = ContinuousClock.now - started
            #expect(took < bound, "\(operation) took \(took)")
        }

        try cluster.startAgain()
        // The pool connects again at its next attempt, after a pause that grows with failures.
        var account: StoredAccount?
        let deadline = ContinuousClock.now + .seconds(90)
        while account == nil, ContinuousClock.now < deadline {
            account = try? await store.account(named: "alice")
            if account == nil { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(account?.username == "alice")
        let closed = await Deadline.finishes(by: .now + .seconds(30)) { try? await store.close() }
        #expect(closed)
    }
}
