import CipherTesting
import Foundation
import Testing

/// PostgreSQL stopped (`pg_ctl stop -m fast`) and started again under a steady conversation
/// between two users, each logged in on another relay instance of one database and each running
/// `recv --follow` (the home's owner, through which their sends go): every message arrives
/// exactly once, those refused during the outage included, and a message sent once the
/// database is back arrives within seconds.
@Suite("PostgreSQL restarted under a conversation across two instances", RequiredTool.postgres.trait, .timeLimit(.minutes(20)))
struct DatabaseRestartUnderLoadTests {
    /// Rounds of the conversation (one message each way); the database stops before round
    /// `stopRound` and starts again before round `startRound`.
    static let rounds = 10
    static let stopRound = 3
    static let startRound = 6
    /// Far above the store's deadline (5 s), far below a send that hangs.
    static let answerBound = Duration.seconds(40)
    /// Once everything sent during the outage has arrived: a message's way from `send` to the
    /// other user's screen, normally milliseconds.
    static let normalLatencyBound = Duration.seconds(10)

    @Test("nothing lost, nothing doubled, and normal latency after the restart")
    func restartUnderConversation() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let arguments = ["--postgres", try cluster.createDatabase(), "--store-timeout-seconds", "5"]
        let first = try await RelayProcess(arguments: arguments)
        let second = try await RelayProcess(arguments: arguments)
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: first.requireEndpoint()).requireSuccess()
        try await bob.initialize(on: second.requireEndpoint()).requireSuccess()
        // Sessions both ways before the conversation.
        try await alice.send("hello bob", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["hello bob"])
        try await bob.send("hello alice", to: "alice")
        #expect(try await alice.receive().map(\.text) == ["hello alice"])

        let outputs = try TemporaryDirectory(prefix: "follow")
        let aliceLogins = first.successfulLogins
        let aliceFollower = try alice.follow(outputIn: outputs)
        defer { aliceFollower.signal(SIGKILL) }
        try await aliceFollower.waitUntilLoggedIn(on: first, loginsBefore: aliceLogins)
        let bobLogins = second.successfulLogins
        let bobFollower = try bob.follow(outputIn: outputs)
        defer { bobFollower.signal(SIGKILL) }
        try await bobFollower.waitUntilLoggedIn(on: second, loginsBefore: bobLogins)

        var toBob: [String] = []
        var toAlice: [String] = []
        var refused = 0
        for round in 0..<Self.rounds {
            if round == Self.stopRound { try cluster.stopServer() }
            if round == Self.startRound { try cluster.startAgain() }
            for (sender, recipient, text) in [(alice, "bob", "alice \(round)"), (bob, "alice", "bob \(round)")] {
                let bound = Patience.scaled(Self.answerBound)
                let started = ContinuousClock.now
                let result = try await sender.run("send", ["--timeout", "30", recipient, text])
                let took = ContinuousClock.now - started
                #expect(result.status == 0 || result.status == 9, "\(result)")
                #expect(took < bound, "\(text) took \(took)")
                if result.status == 9 { refused += 1 }
                if recipient == "bob" { toBob.append(text) } else { toAlice.append(text) }
            }
        }
        #expect(refused > 0, "no send met the outage")

        // Each owner sends what was refused again once the relay can store, with no command of
        // its user's; each message is stored and shown once.
        let bobGot = try await Self.texts(of: bobFollower, count: toBob.count, within: .seconds(180))
        let aliceGot = try await Self.texts(of: aliceFollower, count: toAlice.count, within: .seconds(180))
        #expect(bobGot.sorted() == toBob.sorted(), "bob got \(bobGot)")
        #expect(aliceGot.sorted() == toAlice.sorted(), "alice got \(aliceGot)")

        let bound = Patience.scaled(Self.normalLatencyBound)
        let started = ContinuousClock.now
        try await alice.send("after the restart", to: "bob")
        let after = try await Self.texts(of: bobFollower, count: toBob.count + 1, within: Self.normalLatencyBound * 3)
        let took = ContinuousClock.now - started
        #expect(after.last == "after the restart")
        #expect(took < bound, "a message after the restart took \(took)")

        // Nothing arrives twice later either.
        try await Task.sleep(for: .seconds(2))
        let bobFinal = try await Self.texts(of: bobFollower, count: 0, within: .seconds(1))
        let aliceFinal = try await Self.texts(of: aliceFollower, count: 0, within: .seconds(1))
        #expect(bobFinal.count == toBob.count + 1, "bob got \(bobFinal)")
        #expect(aliceFinal.count == toAlice.count, "alice got \(aliceFinal)")
        for relay in [first, second] {
            #expect(relay.processIdentifier != nil, "an instance exited:\n\(relay.readLogs())")
        }
    }

    /// The texts `recv --follow --json` printed, once it printed at least `count`.
    private static func texts(of follower: ChildProcess, count: Int, within timeout: Duration) async throws -> [String] {
        try await follower.waitForOutputLines(within: timeout) { $0.count >= count }.map { try ReceivedMessage(jsonLine: $0).text }
    }
}
