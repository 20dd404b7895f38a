import CipherClient
import CipherCore
import Foundation

/// Latency as a user sees it, through `ChatClient` on both ends: the sealed local store
/// (SQLite, WAL, `synchronous = FULL`) included, as in the application.
struct ClientLatencyFigures: Codable, Sendable {
    var pairs: Int
    /// `send` of the first message to a new contact until the receiver's client yields it:
    /// bundle fetch, handshake, encrypt, store, relay, accept, decrypt, store.
    var firstMessageMedianMilliseconds: Double
    var firstMessageP90Milliseconds: Double
    var roundTrips: Int
    var payloadBytes: Int
    /// A sends, B's client decrypts and the bench replies from B, A's client yields the reply.
    var roundTripMedianMilliseconds: Double
    var roundTripP99Milliseconds: Double
}

enum ClientLatencyBench {
    static let passphrase = "bench passphrase"

    static func run(
        relay: InProcessRelay, homes: String, pairs: Int, roundTrips: Int, budget: Duration,
        progress: (String) -> Void
    ) async throws -> ClientLatencyFigures {
        let endpoint = try relay.endpoint
        var clients: [ChatClient] = []
        defer { for client in clients { Task { await client.stop() } } }
        func makeClient(_ name: String) async throws -> (ChatClient, MessageInbox) {
            let client = try await ChatClient.create(
                home: homes + "/" + name, passphrase: passphrase, endpoint: endpoint, username: name,
                trust: relay.trust, kdf: .scrypt(logN: 10, r: 8, p: 1)
            )
            clients.append(client)
            let inbox = MessageInbox()
            await inbox.follow(client)
            try await client.start()
            return (client, inbox)
        }

        progress("first messages over \(pairs) fresh pairs (each makes two RSA-2048 identities)")
        let clock = ContinuousClock()
        var firstMessage = SampleSet()
        var lastPair: (sender: ChatClient, senderInbox: MessageInbox, receiver: ChatClient, receiverInbox: MessageInbox)?
        for index in 0..<pairs {
            let (sender, senderInbox) = try await makeClient("first-a\(index)")
            let (receiver, receiverInbox) = try await makeClient("first-b\(index)")
            let text = "hello \(index)"
            let start = clock.now
            let sending = Task { try await sender.send(text, to: receiver.username) }
            try await receiverInbox.expect(text)
            firstMessage.append(start.duration(to: clock.now))
            _ = try await sending.value
            lastPair = (sender, senderInbox, receiver, receiverInbox)
        }
        guard let (alice, aliceInbox, bob, bobInbox) = lastPair else { throw BenchFailure(description: "no pairs") }

        progress("round trips of \(RatchetBench.payloadBytes)-byte messages between two online clients")
        // One reply first, so that neither side still sends the prekey header.
        try await bob.send("reply", to: alice.username)
        try await aliceInbox.expect("reply")
        let body = String(repeating: "m", count: RatchetBench.payloadBytes - 8)
        var roundTrip = SampleSet()
        let warmUp = max(3, roundTrips / 10)
        let deadline = clock.now.advanced(by: budget)
        for index in 0..<(roundTrips + warmUp) where index < warmUp || clock.now < deadline {
            let ping = String(format: "%08d", index) + body
            let start = clock.now
            let sendingPing = Task { try await alice.send(ping, to: bob.username) }
            try await bobInbox.expect(ping)
            let pong = "p" + ping.dropFirst()
            let sendingPong = Task { try await bob.send(pong, to: alice.username) }
            try await aliceInbox.expect(pong)
            if index >= warmUp { roundTrip.append(start.duration(to: clock.now)) }
            // Both sends finish (the relay's durable acknowledgement, the outbox cleared)
            // before the next round trip, so that round trips do not overlap.
            _ = try await sendingPing.value
            _ = try await sendingPong.value
        }
        for client in clients { await client.stop() }
        clients.removeAll()
        return ClientLatencyFigures(
            pairs: firstMessage.count,
            firstMessageMedianMilliseconds: firstMessage.median * 1e3,
            firstMessageP90Milliseconds: firstMessage.percentile(0.9) * 1e3,
            roundTrips: roundTrip.count, payloadBytes: RatchetBench.payloadBytes,
            roundTripMedianMilliseconds: roundTrip.median * 1e3,
            roundTripP99Milliseconds: roundTrip.percentile(0.99) * 1e3
        )
    }
}
