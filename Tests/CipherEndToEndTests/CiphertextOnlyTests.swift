import Foundation
import Testing

@Suite("The relay holds ciphertext only", .timeLimit(.minutes(15)))
struct CiphertextOnlyTests {
    @Test("no plaintext in the relay's files (SQLite and its WAL included) or its output")
    func noPlaintextAtTheRelay() async throws {
        // Trace logging: the most the relay ever writes about what passes through it.
        let relay = try await RelayProcess(arguments: ["--log-level", "trace"])
        let endpoint = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: endpoint).requireSuccess()
        try await bob.initialize(on: endpoint).requireSuccess()

        let toBob = "PLAINTEXT-MARKER-\(UUID().uuidString)"
        let toAlice = "PLAINTEXT-MARKER-\(UUID().uuidString)"
        let markers = [toBob, toAlice]
        try await alice.send("first \(toBob)", to: "bob")
        try await alice.send(toBob, to: "bob")

        // Both messages are at rest in bob's queue now.
        let whileQueued = FileScan.files(under: relay.dataDirectory)
        #expect(whileQueued.contains { $0.lastPathComponent == "relay.sqlite-wal" }, "no WAL among \(whileQueued.map(\.path))")
        #expect(FileScan.findings(of: markers, in: whileQueued) == [])

        #expect(try await bob.receive().map(\.text) == ["first \(toBob)", toBob])
        try await bob.send("reply \(toAlice)", to: "alice")
        let whileReplyQueued = FileScan.files(under: relay.dataDirectory)
        #expect(FileScan.findings(of: markers, in: whileReplyQueued) == [])
        #expect(try await alice.receive().map(\.text) == ["reply \(toAlice)"])

        // After delivery, and after a stop that checkpoints the WAL into the database.
        #expect(FileScan.findings(of: markers, in: FileScan.files(under: relay.dataDirectory)) == [])
        _ = try await relay.stop()
        let afterStop = FileScan.files(under: relay.dataDirectory) + relay.logFiles
        #expect(FileScan.findings(of: markers, in: afterStop) == [])
        #expect(!relay.readLogs().isEmpty, "the relay logged nothing at trace level, so its output proved nothing")
    }
}
