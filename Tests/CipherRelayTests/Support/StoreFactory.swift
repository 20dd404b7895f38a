import CipherPostgres
import CipherRelay
import CipherSQLite
import CipherTesting
import Foundation
import Logging

/// One way to make a fresh, empty `RelayStore`: the contract suite runs every test once per
/// factory in `all`, so each backend is held to the same behaviour.
struct StoreFactory: Sendable, CustomStringConvertible {
    let description: String
    private let make: @Sendable () async throws -> (store: any RelayStore, cleanUp: @Sendable () -> Void)

    static let inMemory = StoreFactory(description: "in-memory") { (InMemoryRelayStore(), {}) }

    static let sqlite = StoreFactory(description: "SQLite") {
        let file = TemporaryDatabaseFile()
        return (try SQLiteRelayStore(path: file.path), { file.remove() })
    }

    /// A new database in the test process's PostgreSQL cluster (`PostgresCluster.shared()`).
    static let postgres = StoreFactory(description: "PostgreSQL") {
        let url = try PostgresCluster.shared().createDatabase()
        return (try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120)), {})
    }

    /// PostgreSQL only where its server is installed; the PostgreSQL suites are then reported
    /// as skipped, with the reason.
    static let all = [inMemory, sqlite] + (RequiredTool.postgres.isInstalled ? [postgres] : [])

    /// Runs `body` with a fresh store, then closes the store and removes what it left behind.
    func withStore(_ body: (any RelayStore) async throws -> Void) async throws {
        let (store, cleanUp) = try await make()
        defer { cleanUp() }
        do {
            try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}

/// A database path under the temporary directory, unique to one test.
struct TemporaryDatabaseFile: Sendable {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("cipherchat-relay-\(UUID().uuidString).sqlite").path

    /// Removes the database with its write-ahead log and shared-memory index.
    func remove() {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: path + suffix)
        }
    }
}

extension Logger {
    /// A logger that prints only errors: the store logs its migrations at info.
    static var quiet: Logger {
        var logger = Logger(label: "cipherchat.test")
        logger.logLevel = .error
        return logger
    }
}
