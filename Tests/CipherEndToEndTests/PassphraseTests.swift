import Foundation
import Testing

@Suite("The passphrase", .timeLimit(.minutes(15)))
struct PassphraseTests {
    @Test("a wrong passphrase: exit 3 with 'wrong passphrase', nothing sent or received")
    func wrongPassphrase() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        for (subcommand, arguments) in [("whoami", []), ("send", ["bob", "not with that passphrase"]), ("recv", ["--json"])] {
            let result = try await alice.run(subcommand, arguments, passphrase: "not \(alice.passphrase)")
            #expect(result.status == 3, "\(result)")
            #expect(result.standardError.contains("wrong passphrase"), "\(result)")
            #expect(result.standardOutput.isEmpty, "\(result)")
        }
        #expect(try await bob.receive().isEmpty)

        let whoami = try await alice.run("whoami").requireSuccess()
        #expect(whoami.outputLines.first == "user: alice", "\(whoami)")
    }

    @Test("a passphrase file other users can read works, with a warning; once chmod 600, no warning")
    func readablePassphraseFile() async throws {
        let relay = try await RelayProcess()
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        let file = alice.files.appending(path: "passphrase")
        try Data((alice.passphrase + "\n").utf8).write(to: file)
        #expect(chmod(file.path, 0o644) == 0)
        let open = try await alice.run("whoami", ["--passphrase-file", file.path]).requireSuccess()
        #expect(open.standardError.contains("other users can read the passphrase file \(file.path) (mode 644); chmod 600 it"), "\(open)")
        #expect(chmod(file.path, 0o600) == 0)
        let closed = try await alice.run("whoami", ["--passphrase-file", file.path]).requireSuccess()
        #expect(!closed.standardError.contains("warning"), "\(closed)")
    }
}

@Suite("A damaged local store", .timeLimit(.minutes(15)))
struct DamagedStoreTests {
    enum Damage: String, CaseIterable, Sendable {
        /// Its first 64 KiB overwritten: not a database any more.
        case overwritten
        /// Cut to its first page, as a copy that stopped short, without its write-ahead log.
        case truncated
    }

    @Test("a client.db that is not a database or is cut short: exit 4 'the local store is corrupted', no SQLite message", arguments: Damage.allCases)
    func damagedStore(damage: Damage) async throws {
        let relay = try await RelayProcess()
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        let store = alice.home.appending(path: "client.db")
        let handle = try FileHandle(forUpdating: store)
        switch damage {
        case .overwritten:
            try handle.write(contentsOf: Data((0..<65_536).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        case .truncated:
            try handle.truncate(atOffset: 1024)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: store.path + suffix) }
        }
        try handle.close()

        for subcommand in ["whoami", "contacts"] {
            let result = try await alice.run(subcommand)
            #expect(result.status == 4, "\(damage) \(subcommand): \(result)")
            #expect(result.standardError.contains("the local store is corrupted"), "\(result)")
            #expect(!result.standardError.localizedCaseInsensitiveContains("sqlite"), "\(result)")
        }
    }
}
