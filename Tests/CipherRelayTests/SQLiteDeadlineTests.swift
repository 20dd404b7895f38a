import CipherRelay
import CipherSQLite
import CipherTesting
import Foundation
import Testing

/// The SQLite store's deadline: a write waits at most the busy timeout (5 s) for a lock another
/// process holds — here the sqlite3 shell in a transaction, as an operator's backup or query
/// would — and then fails with `StoreUnavailableError`, which the relay answers
/// `CODE_STORE_UNAVAILABLE`, rather than with SQLite's own error, answered `CODE_INTERNAL`.
@Suite("SQLite store deadlines", RequiredTool.sqlite3.trait)
struct SQLiteDeadlineTests {
    /// Far above the busy timeout, far below the shell's hold on the lock.
    static let answerBound = Duration.seconds(20)
    /// How long the shell holds the lock unless it is ended first (its `sleep` outlives it).
    static let holdSeconds = 60

    @Test("a write behind another process's lock fails with store_unavailable after the busy timeout")
    func lockHeldByAnotherProcess() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        let store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.createAccount(Fixtures.account("alice")) == .created)

        // The marker is made once the transaction holds the lock (the shell's own output is
        // buffered until it exits, so it cannot say so).
        let marker = file.path + ".locked"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: RequiredTool.sqlite3.path)
        shell.arguments = [file.path, "BEGIN IMMEDIATE", ".shell touch \(marker)", ".shell sleep \(Self.holdSeconds)", "COMMIT"]
        shell.standardOutput = FileHandle.nullDevice
        try shell.run()
        defer {
            if shell.isRunning { kill(shell.processIdentifier, SIGKILL) }
            try? FileManager.default.removeItem(atPath: marker)
        }
        let locked = try await Patience.poll(upTo: .seconds(30)) { FileManager.default.fileExists(atPath: marker) }
        try #require(locked, "the sqlite3 shell did not take the lock")

        let bound = Patience.scaled(Self.answerBound)
        let started = ContinuousClock.now
        await #expect(throws: StoreUnavailableError.self) {
            _ = try await store.createAccount(Fixtures.account("bob"))
        }
        let took = ContinuousClock.now - started
        #expect(took < bound, "the write took \(took)")

        // The lock goes with the shell (not `waitUntilExit`: the shell's `sleep` keeps the
        // descriptor Foundation watches for its exit).
        kill(shell.processIdentifier, SIGKILL)
        let created = try await Patience.poll(upTo: .seconds(30), every: .milliseconds(100)) {
            (try? await store.createAccount(Fixtures.account("bob"))) == .created
        }
        #expect(created, "the store did not write again once the lock was gone")
        try await store.close()
    }
}
