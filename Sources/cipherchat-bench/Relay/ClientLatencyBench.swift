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
    /// The same round trip once `earlierMessages` more have gone each way: a long
    /// conversation must cost what a fresh one does (duplicate suppression keeps thousands
    /// of ids per contact).
    var earlierMessages: Int
    var longConversationRoundTrips: Int
    var longConversationRoundTripMedianMilliseconds: Double
    var longConversationRoundTripP99Milliseconds: Double
}

enum ClientLatencyBench {
    static let passphrase = "bench passphrase"

    static func run(
        relay: InProcessRelay, homes: String, pairs: Int, roundTrips: Int, earlierMessages: Int, budget: Duration,
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
        let warmUp = max(3, roundTrips / 10)
        let roundTrip = try await measureRoundTrips(
            alice: (alice, aliceInbox), bob: (bob, bobInbox), count: roundTrips, warmUp: warmUp, budget: budget, body: body, tag: "a"
        )

        progress("\(earlierMessages) more messages each way, then round trips again")
        for (sender, receiver, receiverInbox) in [(alice, bob, bobInbox), (bob, alice, aliceInbox)] {
            for index in 0..<earlierMessages {
                try await sender.send("earlier \(index)", to: receiver.username)
            }
            try await receiverInbox.expect("earlier \(earlierMessages - 1)", timeout: .seconds(120))
        }
        let longConversation = try await measureRoundTrips(
            alice: (alice, aliceInbox), bob: (bob, bobInbox), count: roundTrips, warmUp: warmUp, budget: budget, body: body, tag: "b"
        )
        for client in clients { await client.stop() }
        clients.removeAll()
        return ClientLatencyFigures(
            pairs: firstMessage.count,
            firstMessageMedianMilliseconds: firstMessage.median * 1e3,
            firstMessageP90Milliseconds: firstMessage.percentile(0.9) * 1e3,
            roundTrips: roundTrip.count, payloadBytes: RatchetBench.payloadBytes,
            roundTripMedianMilliseconds: roundTrip.median * 1e3,
            roundTripP99Milliseconds: roundTrip.percentile(0.99) * 1e3,
            earlierMessages: earlierMessages, longConversationRoundTrips: longConversation.count,
            longConversationRoundTripMedianMilliseconds: longConversation.median * 1e3,
            longConversationRoundTripP99Milliseconds: longConversation.percentile(0.99) * 1e3
        )
    }

    /// Round trips between two online clients: A sends, B's client yields it, B replies at
    /// once, A's client yields the reply. Both sends finish (the relay's durable
    /// acknowledgement, the outbox cleared) before the next, so that round trips do not overlap.
    private static func measureRoundTrips(
        alice: (client: ChatClient, inbox: MessageInbox), bob: (client: ChatClient, inbox: MessageInbox),
        count: Int, warmUp: Int, budget: Duration, body: String, tag: String
    ) async throws -> SampleSet {
        let clock = ContinuousClock()
        var roundTrip = SampleSet()
        let deadline = clock.now.advanced(by: budget)
        for index in 0..<(count + warmUp) where index < warmUp || clock.now < deadline {
            let ping = tag + String(format: "%07d", index) + body
            let start = clock.now
            let sendingPing = Task { try await alice.client.send(ping, to: bob.client.username) }
            try await bob.inbox.expect(ping)
            let pong = "p" + ping.dropFirst()
            let sendingPong = Task { try await bob.client.send(pong, to: alice.client.username) }
            try await alice.inbox.expect(pong)
            if index >= warmUp { roundTrip.append(start.duration(to: clock.now)) }
            _ = try await sendingPing.value
            _ = try await sendingPong.value
        }
        return roundTrip
    }
}
