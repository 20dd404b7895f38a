import Foundation
import Testing

/// Slips a terminal user makes, answered with what was probably meant.
@Suite("Mistyped commands and recipients", .timeLimit(.minutes(15)))
struct TypoTests {
    @Test("a mistyped command names the nearest one and exits 64; a word far from any names none")
    func mistypedCommand() async throws {
        let directory = try TemporaryDirectory(prefix: "typo")
        for (word, hint) in [("sned", "(did you mean 'send'?)"), ("recieve", "see 'cipherchat --help'"), ("fingreprint", "(did you mean 'fingerprint'?)")] {
            let result = try await ChildProcess.run(
                CipherBinary.url(), [word, "--home", directory.url.path, "bob", "hi"], environment: CipherBinary.environment(),
                outputDirectory: directory.url, timeout: .seconds(60)
            )
            #expect(result.status == 64, "\(result)")
            #expect(result.standardError.contains("unknown command '\(word)'") && result.standardError.contains(hint), "\(result)")
        }
    }

    @Test("send to a misspelled contact suggests the contact; send to a room's name without # suggests quoting it")
    func unknownRecipient() async throws {
        let relay = try await RelayProcess()
        let (alice, _) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("hello", to: "bob")
        try await alice.run("room create", ["#team"]).requireSuccess()

        let misspelled = try await alice.run("send", ["bbo", "hi"])
        #expect(misspelled.status == 1, "\(misspelled)")
        #expect(misspelled.standardError.contains("no such user bbo; did you mean bob?"), "\(misspelled)")
        let unquoted = try await alice.run("send", ["team", "hi"])
        #expect(unquoted.status == 1, "\(unquoted)")
        #expect(unquoted.standardError.contains("did you mean '#team'? (quote it"), "\(unquoted)")
    }
}
