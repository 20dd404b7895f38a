import Foundation
import Testing

// A username belongs to the first key that registered it; the relay never lets another key
// take it, so through the command line alone no one can present alice with a changed key for
// a contact. These tests therefore check the refusal at the relay. The client's own refusal
// (a changed identity held back, `send` refused, `cipherchat trust`) is covered in process by
// CipherServerTests ("a changed contact identity is refused until trusted, and its message
// held until then"), which forges a session under another key.
@Suite("A username stays with its identity", .timeLimit(.minutes(15)))
struct IdentityTests {
    @Test("bob loses his home; a new key under his name is refused, and alice still sees the old one")
    func reinitWithNewKeyRefused() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        try await alice.send("hello bob", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["hello bob"])
        try await bob.send("hello alice", to: "alice")
        #expect(try await alice.receive().map(\.text) == ["hello alice"])
        let pinned = try await alice.run("fingerprint", ["bob"]).requireSuccess().standardOutput

        try FileManager.default.removeItem(at: bob.home)
        let again = try await bob.initialize(on: relay.requireEndpoint())
        #expect(again.status != 0, "\(again)")
        #expect(again.standardError.contains("username"), "\(again)")

        let afterwards = try await alice.run("fingerprint", ["bob"]).requireSuccess().standardOutput
        #expect(afterwards == pinned)
    }

    @Test("a second carol with another key is refused; alice keeps writing to the first")
    func secondKeyForTakenNameRefused() async throws {
        let relay = try await RelayProcess()
        let (alice, carol) = try await UserHome.pair("alice", "carol", on: relay)
        // Alice pins carol's identity with her first message.
        try await alice.send("hello carol", to: "carol")

        let impostor = try UserHome("carol", passphrase: "another carol")
        let refused = try await impostor.initialize(on: relay.requireEndpoint())
        #expect(refused.status != 0, "\(refused)")
        #expect(refused.standardError.contains("username"), "\(refused)")

        try await alice.send("still you?", to: "carol")
        #expect(try await carol.receive().map(\.text) == ["hello carol", "still you?"])
    }
}

@Suite("init says what it is doing", .timeLimit(.minutes(15)))
struct InitStepsTests {
    @Test("init with a 3072-bit key names each step on standard error, in order, before its result on standard output")
    func initNamesItsSteps() async throws {
        let relay = try await RelayProcess()
        let endpoint = try relay.requireEndpoint()
        let dana = try UserHome("dana")
        let result = try await dana.run(
            "init", ["--server", endpoint.address, "--user", "dana", "--server-fingerprint", endpoint.fingerprint, "--rsa-bits", "3072"]
        ).requireSuccess()
        let steps = result.standardError.split(separator: "\n").map(String.init)
        #expect(steps == [
            "cipherchat: connecting to \(endpoint.address) and checking its certificate…",
            "cipherchat: generating a 3072-bit RSA identity (this can take a minute)…",
            "cipherchat: sealing the new store under your passphrase (scrypt)…",
            "cipherchat: registering dana…",
            "cipherchat: publishing prekeys…",
        ], "\(result)")
        #expect(result.standardOutput.contains("registered dana at \(endpoint.address)"))
    }
}
