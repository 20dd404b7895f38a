import CipherPostgres
import CipherRelay
import CipherTesting
import Foundation
import Testing

/// What the PostgreSQL store does beyond the shared contract: its URL, its migrations.
@Suite("PostgreSQL store", RequiredTool.postgres.trait)
struct PostgresStoreTests {
    @Test("the URL is parsed, and its password never shows")
    func location() throws {
        let location = try PostgresLocation(url: "postgresql://relay:s3cr%40t@db.example:6543/chat?sslmode=require")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.username == "relay")
        #expect(location.database == "chat")
        #expect(location.tlsMode == .require)
        #expect(!location.description.contains("s3cr"))
        #expect(location.description == "postgres://relay:***@db.example:6543/chat?sslmode=require")
        let defaults = try PostgresLocation(url: "postgres://relay@localhost/chat")
        #expect(defaults.port == 5432 && defaults.tlsMode == .prefer)
    }

    @Test("URLs it cannot use are refused", arguments: [
        "mysql://relay@localhost/chat", "postgres://localhost/chat", "postgres://relay@localhost/chat?sslmode=sometimes", "not a url",
    ])
    func invalidLocation(url: String) {
        #expect(throws: PostgresRelayStoreError.self) { try PostgresLocation(url: url) }
    }

    @Test("a database migrated by a newer CipherChat is refused, and left as it was")
    func newerSchema() async throws {
        let cluster = try PostgresCluster.shared()
        let url = try cluster.createDatabase()
        let database = try #require(url.split(separator: "/").last?.split(separator: "?").first.map(String.init))
        let store = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        #expect(try await store.createAccount(Fixtures.account("alice")) == .created)
        try await store.close()
        try cluster.psql("INSERT INTO schema_migrations (version, name) VALUES (99, 'from-the-future')", database: database)

        await #expect(throws: PostgresRelayStoreError.schemaFromNewerVersion(99)) {
            _ = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        }
        #expect(try cluster.psql("SELECT count(*) FROM accounts", database: database).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("what durable() confirmed survives a crash of PostgreSQL")
    func durableSurvivesCrash() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let url = try cluster.createDatabase()
        let store = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        // Concurrent senders, as on a relay: batches commit asynchronously, and each ticket
        // completes only once a later synchronous commit has flushed the log past it.
        let stored = try await withThrowingTaskGroup(of: QueuedEnvelope?.self) { group in
            for clientID in UInt8(0)..<60 {
                group.addTask {
                    try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID), quota: 1_000).envelope
                }
            }
            return try await group.reduce(into: [QueuedEnvelope]()) { if let envelope = $1 { $0.append(envelope) } }
        }
        #expect(stored.count == 60)
        try cluster.crashAndRestart()
        try? await store.close()

        let reopened = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        let survived = try await reopened.pending(for: "bob", after: 0, limit: 1_000)
        #expect(survived.map(\.deliveryID) == stored.map(\.deliveryID).sorted())
        #expect(try await reopened.queuedCount(for: "bob") == 60)
        try await reopened.close()
    }

    @Test("a database that does not exist fails with the server's reason")
    func missingDatabase() async throws {
        let url = try PostgresCluster.shared().url(database: "no_such_database")
        do {
            _ = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
            Issue.record("connected to a database that does not exist")
        } catch let error as PostgresRelayStoreError {
            #expect(error.description.contains("no_such_database"), "\(error)")
        }
    }
}
