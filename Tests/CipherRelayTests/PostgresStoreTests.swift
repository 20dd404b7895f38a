import CipherPostgres
import CipherRelay
import CipherTesting
import Foundation
import Testing

/// What the PostgreSQL store does beyond the shared contract: its URL, its migrations.
@Suite("PostgreSQL store")
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
        let store = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet)
        #expect(try await store.createAccount(Fixtures.account("alice")) == .created)
        try await store.close()
        try cluster.psql("INSERT INTO schema_migrations (version, name) VALUES (99, 'from-the-future')", database: database)

        await #expect(throws: PostgresRelayStoreError.schemaFromNewerVersion(99)) {
            _ = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet)
        }
        #expect(try cluster.psql("SELECT count(*) FROM accounts", database: database).trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test("a database that does not exist fails with the server's reason")
    func missingDatabase() async throws {
        let url = try PostgresCluster.shared().url(database: "no_such_database")
        do {
            _ = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet)
            Issue.record("connected to a database that does not exist")
        } catch let error as PostgresRelayStoreError {
            #expect(error.description.contains("no_such_database"), "\(error)")
        }
    }
}
