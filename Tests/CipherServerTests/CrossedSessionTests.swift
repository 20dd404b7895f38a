import CipherClient
import Foundation
import Testing

/// Two users who start a session with each other at once (PROTOCOL.md 12.6, "Sessions started
/// at once"): each accepts the other's, and the conversation goes on both ways.
@Suite("Sessions started at once", .serialized)
struct CrossedSessionTests {
    @Test("first messages that cross are both shown, and later messages in both directions too")
    func crossedFirstMessages() async throws {
        let relay = try await TestRelay.start()
        let homes = ["alice", "bob"].map { _ in
            FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-home-\(UUID().uuidString)").path
        }
        let alice = try await ChatClient.create(
            home: homes[0], passphrase: "test passphrase", endpoint: relay.endpoint, username: "alice", trust: relay.trust,
            kdf: .scrypt(logN: 10, r: 8, p: 1)
        )
        let bob = try await ChatClient.create(
            home: homes[1], passphrase: "test passphrase", endpoint: relay.endpoint, username: "bob", trust: relay.trust,
            kdf: .scrypt(logN: 10, r: 8, p: 1)
        )
        // Neither takes deliveries yet: both first messages are prekey messages.
        try await alice.start(receiving: false)
        try await bob.start(receiving: false)
        try await alice.send("alice first", to: "bob")
        try await bob.send("bob first", to: "alice")
        await alice.close()
        await bob.close()

        var clients: [ChatClient] = []
        var collectors: [EventCollector] = []
        for home in homes {
            let client = try ChatClient.open(home: home, passphrase: "test passphrase")
            let collector = EventCollector()
            await collector.follow(client)
            try await client.start()
            clients.append(client)
            collectors.append(collector)
        }
        #expect(await collectors[0].wait { await $0.texts == ["bob first"] })
        #expect(await collectors[1].wait { await $0.texts == ["alice first"] })
        for round in 0..<3 {
            try await clients[0].send("to bob \(round)", to: "bob")
            try await clients[1].send("to alice \(round)", to: "alice")
        }
        #expect(await collectors[1].wait { await $0.texts == ["alice first"] + (0..<3).map { "to bob \($0)" } })
        #expect(await collectors[0].wait { await $0.texts == ["bob first"] + (0..<3).map { "to alice \($0)" } })
        #expect(await collectors[0].warnings.isEmpty)
        #expect(await collectors[1].warnings.isEmpty)
        for client in clients { await client.stop() }
        await relay.stop()
    }
}
