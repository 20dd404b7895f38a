import CipherTesting
import CipherClient
import Foundation
import Testing

/// `cipherchat recv` against long queues and a relay that overstates its queue: it prints
/// everything that comes, and always ends.
@Suite("recv with long and overstated queues", .timeLimit(.minutes(15)))
struct LongQueueTests {
    @Test("1,500 messages queued while bob was away, past the relay's 1,000 in flight: one recv prints them all and exits")
    func fiveThousandQueued() async throws {
        // The relay's rate limit is per connection; the messages come over one.
        let relay = try await RelayProcess(arguments: ["--messages-per-second", "100000", "--message-burst", "10000"])
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        // Past the 1,000 a relay sends before acknowledgements (the stall was at 1,000); more
        // costs the whole suite time on a 2-core machine, as the sends are real.
        let count = 1_500
        try await send(count, from: alice, to: bob.username, on: relay.requireEndpoint())

        let result = try await bob.run("recv", ["--json"]).requireSuccess()
        let texts = try result.outputLines.map { try ReceivedMessage(jsonLine: $0).text }
        #expect(texts.count == count, "bob got \(texts.count) of \(count)\n\(result.standardError.suffix(2_000))")
        #expect(Set(texts) == Set((0..<count).map { "queued \($0)" }))
        #expect(try await bob.receive().isEmpty, "a second recv printed again")
    }

    @Test("a relay that announces more than it sends: recv --wait prints what came and exits")
    func overstatedQueue() async throws {
        let relay = try await OverstatingRelay(extra: 3)
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: relay.endpoint).requireSuccess()
        try await bob.initialize(on: relay.endpoint).requireSuccess()
        try await alice.send("one", to: "bob")
        try await alice.send("two", to: "bob")

        for arguments in [["--json"], ["--json", "--wait", "2"]] {
            let bound = Patience.scaled(.seconds(80))
            let started = ContinuousClock.now
            let result = try await bob.run("recv", arguments).requireSuccess()
            let texts = try result.outputLines.map { try ReceivedMessage(jsonLine: $0).text }
            // Once printed, acknowledged: the second run sees only the relay's false count.
            #expect(texts == (arguments.count == 1 ? ["one", "two"] : []), "\(result)")
            #expect(result.standardError.contains("the rest stay queued"), "\(result)")
            #expect(ContinuousClock.now - started < bound)
        }
        await relay.stop()
    }

    /// Sends `count` messages from `sender`'s home through the client library: one process and
    /// one connection instead of `count` runs of `cipherchat send`.
    private func send(_ count: Int, from sender: UserHome, to recipient: String, on endpoint: RelayEndpoint) async throws {
        let client = try ChatClient.open(home: sender.home.path, passphrase: sender.passphrase)
        try await client.start(receiving: false)
        // A few in flight at once, so that the relay's group commit takes them together.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                if index >= 32 { try await group.next() }
                group.addTask { _ = try await client.send("queued \(index)", to: recipient) }
            }
            try await group.waitForAll()
        }
        await client.close()
    }
}
