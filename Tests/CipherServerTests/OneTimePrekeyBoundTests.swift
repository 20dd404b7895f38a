import CipherClient
import CipherCore
import CipherWire
import Foundation
import Testing

/// One-time prekeys are a resource a stranger can drain by fetching bundles: the victim tops
/// them up at most once a minute, so the stranger cannot make its store grow or sync without end.
@Suite("One-time prekey top-ups", .serialized)
struct OneTimePrekeyBoundTests {
    @Test("a stranger draining a user's one-time prekeys gets one top-up a minute, then bundles without one")
    func fetchLoopIsBounded() async throws {
        let relay = try await TestRelay.start { relay in
            relay.messageBurst = 10_000
            relay.messagesPerSecond = 10_000
        }
        let bob = try await relay.makeUser("bob")
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        let stranger = try await relay.makeUser("mallory")
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await link.authenticate(.login, username: "mallory", identity: stranger.identity)

        // Drained three times, each after giving bob time to answer the relay's "running
        // low": his first batch, and at most one top-up within the minute this test lasts.
        var handedOut = 0
        for _ in 0..<3 {
            handedOut += try await drain("bob", over: link, relay: relay)
            try await Task.sleep(for: .seconds(3))
        }
        #expect(handedOut >= 100)
        #expect(handedOut <= 200)
        await link.close()
        await bob.stop()
        await relay.stop()
    }

    /// Fetches `user`'s bundle until the relay has no one-time prekey left for them; returns
    /// how many bundles carried one.
    private func drain(_ user: String, over link: RelayLink, relay: TestRelay) async throws -> Int {
        var withOneTimePrekey = 0
        for _ in 0..<1_000 {
            var fetch = WireFetchBundle()
            fetch.username = user
            guard case .bundle(let bundle) = try await link.request(.fetchBundle(fetch)).body else { throw RelayError.unexpectedReply }
            guard bundle.bundle.hasOneTimePrekey else { break }
            withOneTimePrekey += 1
        }
        return withOneTimePrekey
    }
}
