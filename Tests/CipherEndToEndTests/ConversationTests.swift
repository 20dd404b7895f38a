import CipherTesting
import Foundation
import Testing

@Suite("Conversations through a relay", .timeLimit(.minutes(15)))
struct ConversationTests {
    @Test("alice and bob converse both ways; recv acknowledges what it printed")
    func converseBothWays() async throws {
        let started = Date()
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        try await alice.send("hello bob", to: "bob")
        let atBob = try await bob.receive()
        try #require(atBob.count == 1, "bob got \(atBob)")
        check(atBob[0], from: "alice", to: "bob", text: "hello bob", sentAfter: started)
        let bobAgain = try await bob.receive()
        #expect(bobAgain.isEmpty, "a second recv printed again: \(bobAgain)")

        let reply = "hello alice: ünïcode ✓, \"quotes\" and a \\ backslash"
        try await bob.send(reply, to: "alice")
        let atAlice = try await alice.receive()
        try #require(atAlice.count == 1, "alice got \(atAlice)")
        check(atAlice[0], from: "bob", to: "alice", text: reply, sentAfter: started)
        #expect(atAlice[0].id != atBob[0].id)
        let aliceAgain = try await alice.receive()
        #expect(aliceAgain.isEmpty, "a second recv printed again: \(aliceAgain)")
    }

    @Test("recv --follow | head -n 1: recv stops once its output is closed, and every message stays in the history")
    func followIntoClosedPipe() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let texts = (1...3).map { "queued \($0)" }
        for text in texts { try await alice.send(text, to: "bob") }

        // Signals are reset for the pipeline: a shell a user types in leaves SIGPIPE to kill, but
        // a parent that ignores it (many do) passes that on, and then only the write fails.
        let pipeline = try await ChildProcess.run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", #"trap '' PIPE; "$0" recv --follow --json --home "$1" | head -n 1"#, try CipherBinary.url().path, bob.home.path],
            environment: CipherBinary.environment(["CIPHERCHAT_PASSPHRASE": bob.passphrase, "CIPHERCHAT_SCRYPT_LOG_N": UserHome.scryptLogN]),
            outputDirectory: bob.files, timeout: Patience.scaled(.seconds(120))
        )
        #expect(pipeline.outputLines.count == 1, "\(pipeline)")
        #expect(pipeline.standardError.contains("standard output is closed"), "\(pipeline)")

        // What recv handled is in the history; what it did not is still queued.
        let history = try await bob.run("history", ["alice", "--json"]).requireSuccess()
        let kept = try history.outputLines.map { try ReceivedMessage(jsonLine: $0).text }
        let later = try await bob.receive().map(\.text)
        #expect(Set(kept + later) == Set(texts), "history \(kept), recv \(later)")
    }

    @Test("--log-level debug shows the client's diagnostics on standard error; by default there are none")
    func clientLogLevel() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        let quiet = try await alice.run("send", ["bob", "quiet"]).requireSuccess()
        #expect(quiet.standardError.isEmpty, "\(quiet)")
        let verbose = try await alice.run("send", ["--log-level", "debug", "bob", "verbose"]).requireSuccess()
        #expect(verbose.standardError.contains("logged in"), "\(verbose)")
        #expect(!verbose.standardError.contains("verbose"), "the message text reached the log: \(verbose)")
        let refused = try await alice.run("send", ["--log-level", "loud", "bob", "never sent"])
        #expect(refused.status != 0)
        #expect(refused.standardError.contains("log-level"), "\(refused)")
        #expect(try await bob.receive().map(\.text) == ["quiet", "verbose"])
    }

    @Test("20 messages sent while the recipient is offline arrive, in order")
    func offlineDeliveryInOrder() async throws {
        let relay = try await RelayProcess()
        let endpoint = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await bob.initialize(on: endpoint).requireSuccess()
        try await alice.initialize(on: endpoint).requireSuccess()

        // Bob has not connected since init: every message waits at the relay.
        let texts = (1...20).map { "message \($0) of 20" }
        for text in texts {
            try await alice.send(text, to: "bob")
        }
        let received = try await bob.receive()
        #expect(received.map(\.text) == texts)
        #expect(received.allSatisfy { $0.from == "alice" && $0.to == "bob" && $0.kind == "text" })
        #expect(Set(received.map(\.id)).count == received.count, "ids repeat: \(received.map(\.id))")
    }

    @Test("comparing safety numbers: a wrong number is refused, the right one verifies")
    func verifySafetyNumber() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)

        let aliceSees = try await safetyNumber(of: alice, with: "bob")
        let bobSees = try await safetyNumber(of: bob, with: "alice")
        #expect(aliceSees == bobSees)
        #expect(aliceSees.split(separator: " ").map(\.count) == Array(repeating: 5, count: 12), "\(aliceSees)")

        let lastDigit = try #require(aliceSees.last?.wholeNumberValue)
        let wrong = String(aliceSees.dropLast()) + "\((lastDigit + 1) % 10)"
        let refused = try await alice.run("verify", ["bob", wrong])
        #expect(refused.status == 5, "\(refused)")
        let verified = try await alice.run("verify", ["bob"] + aliceSees.split(separator: " ").map(String.init))
        #expect(verified.status == 0, "\(verified)")

        try await bob.send("now verified", to: "alice")
        let atAlice = try await alice.receive()
        #expect(atAlice.map(\.text) == ["now verified"])
        #expect(atAlice.map(\.verified) == [true])
    }

    /// The 12 groups of 5 digits after "safety number: ".
    private func safetyNumber(of user: UserHome, with other: String) async throws -> String {
        let result = try await user.run("fingerprint", [other]).requireSuccess()
        let prefix = "safety number: "
        guard let line = result.outputLines.first(where: { $0.hasPrefix(prefix) }) else {
            throw HarnessError("no safety number in:\n\(result)")
        }
        return String(line.dropFirst(prefix.count))
    }

    /// The fields `recv --json` prints, ISO 8601 timestamps between the test's start and now.
    private func check(
        _ message: ReceivedMessage, from: String, to: String, text: String, sentAfter start: Date,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(message.from == from, sourceLocation: sourceLocation)
        #expect(message.to == to, sourceLocation: sourceLocation)
        #expect(message.text == text, sourceLocation: sourceLocation)
        #expect(message.kind == "text", sourceLocation: sourceLocation)
        #expect(!message.id.isEmpty, sourceLocation: sourceLocation)
        #expect(message.verified == false, sourceLocation: sourceLocation)
        let sent = ISO8601.date(message.sentAt)
        let received = ISO8601.date(message.receivedAt)
        #expect(sent != nil, "sent_at is not ISO 8601: \(message.sentAt)", sourceLocation: sourceLocation)
        #expect(received != nil, "received_at is not ISO 8601: \(message.receivedAt)", sourceLocation: sourceLocation)
        if let sent, let received {
            // Whole milliseconds on both sides, so a little slack below the start.
            #expect(sent >= start.addingTimeInterval(-1) && sent <= Date(), "sent_at \(message.sentAt)", sourceLocation: sourceLocation)
            #expect(received >= sent && received <= Date(), "received_at \(message.receivedAt)", sourceLocation: sourceLocation)
        }
    }
}
