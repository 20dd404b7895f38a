import CipherTesting
import Foundation
import Testing

/// `cipherchat demo`, as a new user runs it first: a real relay, three users, a room with a
/// removal and a file, through TLS on loopback.
@Suite("The demo")
struct DemoTests {
    @Test("the demo shows a conversation, a room whose removed member reads nothing more, a file fetched intact, and no plaintext on the relay")
    func demo() async throws {
        let directory = try TemporaryDirectory(prefix: "demo")
        let result = try await ChildProcess.run(
            CipherBinary.url(), ["demo"], environment: CipherBinary.environment(), outputDirectory: directory.url,
            timeout: Patience.scaled(.seconds(120))
        ).requireSuccess()
        let output = result.standardOutput
        for expected in [
            "bob reads from alice: Hi bob, the launch is on Thursday.",
            "carol reads in #team from alice: Welcome to #team, both of you.",
            "members: alice, bob\n",
            "bob reads in #team from alice: Carol is off the project; this stays between us.",
            "carol's client received nothing of it",
            "bob downloads: 100% (1048576 of 1048576 bytes)",
            "identical to alice's: true",
            "searched every file for the messages' text: not found (ciphertext only)",
        ] {
            #expect(output.contains(expected), "missing \(expected) in:\n\(output)")
        }
        #expect(!output.contains("PLAINTEXT FOUND"))
        #expect(!output.contains("the removal failed"))
        // One chunk size, the one `file send --help` gives.
        let help = try await ChildProcess.run(
            CipherBinary.url(), ["file", "send", "--help"], environment: CipherBinary.environment(), outputDirectory: directory.url,
            timeout: .seconds(60)
        ).requireSuccess()
        #expect(output.contains("in 256 KiB chunks"))
        #expect(help.standardOutput.replacing("\n", with: " ").contains("in 256 KiB chunks"), "\(help.standardOutput)")
    }
}
