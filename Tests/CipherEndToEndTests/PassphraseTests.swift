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
}
