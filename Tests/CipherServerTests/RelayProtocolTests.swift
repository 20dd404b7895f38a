import CipherClient
import CipherCore
import CipherRelay
import CipherTesting
import CipherWire
import Foundation
import NIOCore
import NIOSSL
import Synchronization
import Testing

/// The relay and the client library over real TLS on loopback, with a real SQLite store.
@Suite("Relay and client over TLS", .serialized)
struct RelayProtocolTests {
    @Test("two users converse both ways, online and through the offline queue")
    func converse() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        // Bob is offline: the message waits in his queue.
        try await alice.send("hello bob", to: "bob")
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        #expect(await bobEvents.wait { await $0.texts == ["hello bob"] })
        // Both online now: the reply is pushed at once.
        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await bob.send("hi alice", to: "alice")
        #expect(await aliceEvents.wait { await $0.texts == ["hi alice"] })
        try await alice.send("second", to: "bob")
        #expect(await bobEvents.wait { await $0.texts == ["hello bob", "second"] })
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("a taken name cannot be registered with another key")
    func takenName() async throws {
        let relay = try await TestRelay.start()
        _ = try await relay.makeUser("alice")
        await #expect(throws: RelayError.self) { _ = try await relay.makeUser("alice") }
        let count = try await relay.store.account(named: "alice")
        #expect(count != nil)
        await relay.stop()
    }

    @Test("logging in with another identity's key is refused")
    func wrongKeyLogin() async throws {
        let relay = try await TestRelay.start()
        _ = try await relay.makeUser("alice")
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        await #expect(throws: RelayError.self) {
            _ = try await link.authenticate(.login, username: "alice", identity: TestIdentities.mallory)
        }
        await link.close()
        let log = try String(contentsOfFile: relay.directory + "/security.log", encoding: .utf8)
        #expect(log.contains("\"event\":\"login_failed\""))
        await relay.stop()
    }

    @Test("an envelope replayed by the relay is shown once; a tampered one is refused and the conversation goes on")
    func replayAndTamper() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        try await alice.send("first", to: "bob")
        // A malicious relay keeps a copy of the envelope and replays it, once intact under a
        // new client message id, once with a byte altered.
        let queued = try await relay.store.pending(for: "bob", after: 0, limit: 10)
        let original = try #require(queued.first)
        var tampered = original.envelope
        tampered[tampered.count - 5] ^= 0x01
        for (index, envelope) in [original.envelope, tampered].enumerated() {
            let ticket = try await relay.store.enqueue(
                NewEnvelope(sender: "alice", recipient: "bob", clientMessageID: [UInt8](repeating: UInt8(index + 1), count: 16),
                            acceptedAtMilliseconds: original.acceptedAtMilliseconds, envelope: envelope),
                quota: 100
            )
            try await ticket.durable()
        }
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        #expect(await bobEvents.wait { await $0.warnings.count == 2 })
        #expect(await bobEvents.texts == ["first"])
        try await alice.send("after the attack", to: "bob")
        #expect(await bobEvents.wait { await $0.texts == ["first", "after the attack"] })
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("a changed contact identity is refused until trusted, and its message held until then")
    func changedContactIdentity() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        try await alice.start()
        try await alice.send("hello", to: "bob")
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await bob.start()
        #expect(await bobEvents.wait { await $0.texts == ["hello"] })
        // The relay (or someone who took over the account) substitutes Alice's identity:
        // Mallory's key under the name "alice", delivered as a new session.
        let random = SeededRandomSource(seed: "substitute")
        let mallory = try TestUser(name: "mallory", identity: TestIdentities.mallory, random: random)
        var wire = WireFetchBundle()
        wire.username = "bob"
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await link.authenticate(.login, username: "alice", identity: alice.identity)
        let reply = try await link.request(.fetchBundle(wire))
        guard case .bundle(let fetched) = reply.body else { Issue.record("no bundle"); return }
        var forged = try Session.initiate(
            identity: mallory.identity, signedPrekey: mallory.signedPrekey, bundle: PrekeyBundle(wire: fetched.bundle), random: random
        )
        var send = WireSendEnvelope()
        send.recipient = "bob"
        send.clientMessageID = Data(random.bytes(16))
        send.envelope = Data(try forged.encrypt(.text("i am alice, trust me", sentAtMilliseconds: 0, random: random)))
        _ = try await link.request(.send(send))
        #expect(await bobEvents.wait { await $0.warnings.contains { $0.contains("CHANGED") } })
        #expect(await bobEvents.texts == ["hello"])
        // Sending to the changed contact is refused too.
        await #expect(throws: ClientError.self) { try await bob.send("are you there?", to: "alice") }
        // Bob checks the new identity with whoever holds it. Meanwhile it changes again
        // (Carol's key this time): what he checked is not what is pending, so nothing is accepted.
        let checked = try #require(try await bob.pendingSafetyNumber(with: "alice"))
        #expect(checked.1 == TestIdentities.mallory.publicIdentity.fingerprint)
        let carol = try TestUser(name: "carol", identity: TestIdentities.carol, random: random)
        var second = try Session.initiate(
            identity: carol.identity, signedPrekey: carol.signedPrekey, bundle: PrekeyBundle(wire: fetched.bundle), random: random
        )
        send.clientMessageID = Data(random.bytes(16))
        send.envelope = Data(try second.encrypt(.text("no, i am alice", sentAtMilliseconds: 0, random: random)))
        _ = try await link.request(.send(send))
        #expect(await bobEvents.wait { _ in (try? await bob.pendingSafetyNumber(with: "alice"))?.1 == TestIdentities.carol.publicIdentity.fingerprint })
        #expect(try await bob.trust("alice", confirming: checked.0.description) == .mismatch)
        #expect(try await bob.trust("alice", confirming: checked.1.displayString) == .mismatch)
        // Once Bob accepts the identity he checked, the message held for it is shown; the one
        // from the other identity is held again.
        let rechecked = try #require(try await bob.pendingSafetyNumber(with: "alice"))
        #expect(try await bob.trust("alice", confirming: rechecked.1.displayString) == .accepted)
        #expect(await bobEvents.wait { await $0.texts == ["hello", "no, i am alice"] })
        #expect(try await bob.pendingSafetyNumber(with: "alice")?.1 == TestIdentities.mallory.publicIdentity.fingerprint)
        await link.close()
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }
}

@Suite("Hostile connections", .serialized)
struct HostileConnectionTests {
    @Test("an oversized frame gets an error and closes that connection, and nothing else")
    func oversizedFrame() async throws {
        let relay = try await TestRelay.start { $0.maxFrameSize = 64 * 1024 }
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await alice.start()
        try await bob.start()

        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        // Announce a 16 MiB frame: the relay must refuse at once, without buffering it.
        let frames = try await attacker.exchange([0x01, 0x00, 0x00, 0x00])
        #expect(frames.count == 2)
        guard case .challenge = frames.first?.body, case .error(let error) = frames.last?.body else {
            Issue.record("expected the challenge, then an error, then the close")
            return
        }
        #expect(error.code == .frameTooLarge)
        #expect(error.limit == "frame_size")

        try await alice.send("still here", to: "bob")
        #expect(await bobEvents.wait { await $0.texts == ["still here"] })
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("garbage instead of a ClientFrame is refused and logged as a malformed frame")
    func garbageFrame() async throws {
        let relay = try await TestRelay.start()
        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        let frames = try await attacker.exchange([0, 0, 0, 3, 0xff, 0xff, 0xff])
        guard case .error(let error) = frames.last?.body else {
            Issue.record("expected an error frame")
            return
        }
        #expect(error.code == .malformedFrame)
        let log = try String(contentsOfFile: relay.directory + "/security.log", encoding: .utf8)
        #expect(log.contains("\"event\":\"malformed_frame\""))
        await relay.stop()
    }

    @Test("requests before login are refused")
    func unauthenticatedRequest() async throws {
        let relay = try await TestRelay.start()
        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        var fetch = WireClientFrame()
        fetch.requestID = 7
        var body = WireFetchBundle()
        body.username = "alice"
        fetch.fetchBundle = body
        let bytes = try fetch.serializedBytes() as [UInt8]
        let frames = try await attacker.exchange([0, 0, 0, UInt8(bytes.count)] + bytes)
        guard case .error(let error) = frames.last?.body else {
            Issue.record("expected an error frame")
            return
        }
        #expect(error.code == .notAuthenticated)
        #expect(frames.last?.requestID == 7)
        await relay.stop()
    }

    @Test("a sender over its message rate is told which limit and when to retry")
    func rateLimit() async throws {
        let relay = try await TestRelay.start {
            $0.messageBurst = 3
            $0.messagesPerSecond = 0.5
        }
        _ = try await relay.makeUser("bob")
        let alice = try await relay.makeUser("alice")
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await link.authenticate(.login, username: "alice", identity: alice.identity)
        var limited: RelayError?
        for index in 0..<5 {
            var send = WireSendEnvelope()
            send.recipient = "bob"
            send.clientMessageID = Data(repeating: UInt8(index), count: 16)
            send.envelope = Data([1, 2, 3])
            do {
                _ = try await link.request(.send(send))
            } catch let error as RelayError {
                limited = error
                break
            }
        }
        let error = try #require(limited)
        #expect(error.code == .rateLimited)
        #expect(error.limit == "message_rate")
        #expect(error.retryAfterMilliseconds > 0)
        await link.close()
        await relay.stop()
    }
}

@Suite("Relay restarts", .serialized)
struct RelayRestartTests {
    @Test("clients survive a relay restart in the middle of a conversation, losing nothing")
    func restartMidConversation() async throws {
        var relay = try await TestRelay.startOnRestartablePort()
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await alice.start()
        try await bob.start()
        try await alice.send("before", to: "bob")
        #expect(await bobEvents.wait { await $0.texts == ["before"] })

        relay = try await relay.restarted()
        // Both clients reconnect by themselves; this send waits for the new connection.
        try await alice.send("after", to: "bob")
        #expect(await bobEvents.wait(seconds: 20) { await $0.texts == ["before", "after"] })
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }
}

@Suite("Relay limits and notices", .serialized)
struct RelayLimitTests {
    @Test("a peer that stalls in the middle of a frame is dropped")
    func partialFrameStall() async throws {
        let relay = try await TestRelay.start { $0.partialFrameTimeoutSeconds = 1 }
        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        // Keeps the test bounded should the relay never hang up.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            try? await attacker.channel.channel.close()
        }
        defer { watchdog.cancel() }
        // Two bytes of a length prefix, then nothing: the relay must hang up, not wait forever.
        // The clock starts once the relay has answered (the TLS handshake done, the challenge
        // sent), so that a slow handshake on a busy machine does not count as waiting. The
        // bound sits far below the 30-second default: it fails if the configured 1 s is ignored.
        let (answered, ended) = try await attacker.channel.executeThenClose { inbound, outbound in
            let wrote = ContinuousClock.now
            try await outbound.write(ByteBuffer(bytes: [0, 0]))
            var answered: ContinuousClock.Instant?
            do {
                for try await _ in inbound where answered == nil { answered = .now }
            } catch NIOSSLError.uncleanShutdown {
                // The relay hung up without a TLS close_notify: the end of the stream.
            }
            // On a loaded machine the hang-up can win the race with the challenge.
            return (answered ?? wrote, ContinuousClock.now)
        }
        #expect(ended - answered < .seconds(20))
        await relay.stop()
    }

    @Test("before authentication a frame over 8192 bytes is refused at once, before any of it is read")
    func largeFrameBeforeAuthentication() async throws {
        let relay = try await TestRelay.start()
        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        // A length the configured 1 MiB limit allows, announced by a client that has not logged
        // in: before, the relay waited for (and buffered) its megabyte.
        let frames = try await attacker.exchange([0x00, 0x0F, 0xFF, 0xFF])
        guard case .error(let error) = frames.last?.body else {
            Issue.record("expected an error frame, got \(frames)")
            await relay.stop()
            return
        }
        #expect(error.code == .frameTooLarge)
        #expect(error.limit == "frame_size")
        #expect(error.message.contains("8192 bytes before authentication"), "\(error.message)")
        await relay.stop()
    }

    @Test("a frame trickled a byte at a time, never idle long enough to stall, is dropped at its deadline")
    func trickledFrame() async throws {
        // Stalls after 1 s of silence; a frame must be whole 2 s after its first byte.
        let relay = try await TestRelay.start { $0.partialFrameTimeoutSeconds = 1 }
        let attacker = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        let closed = try await attacker.channel.executeThenClose { inbound, outbound in
            let ended = Mutex(false)
            let reader = Task {
                do {
                    for try await _ in inbound {}
                } catch {
                    // A hang-up without a TLS close_notify ends the stream as well.
                }
                ended.withLock { $0 = true }
            }
            defer { reader.cancel() }
            // A frame of 100 bytes, announced, then its body a byte every 300 ms: at most 30 s.
            try await outbound.write(ByteBuffer(bytes: [0, 0, 0, 100]))
            for _ in 0..<100 {
                try await Task.sleep(for: .milliseconds(300))
                if ended.withLock({ $0 }) { return true }
                guard (try? await outbound.write(ByteBuffer(bytes: [0x08]))) != nil else { return true }
            }
            return ended.withLock { $0 }
        }
        #expect(closed, "the relay kept a frame trickled over 30 s")
        await relay.stop()
    }

    @Test("one sender fills only its share of an offline recipient's queue; another sender still reaches them")
    func senderShareOfQueue() async throws {
        let relay = try await TestRelay.start {
            $0.queueQuota = 6
            $0.queueQuotaPerSender = 2
        }
        let alice = try await relay.makeUser("alice")
        let carol = try await relay.makeUser("carol")
        _ = try await relay.makeUser("bob")
        try await alice.start()
        try await carol.start()
        // Bob is offline. Alice's first message also carries her session's start; both fit.
        try await alice.send("one", to: "bob")
        try await alice.send("two", to: "bob")
        let refused = await #expect(throws: ClientError.self) { try await alice.send("three", to: "bob") }
        guard case .relay(let error) = refused else {
            Issue.record("expected the relay's refusal, got \(String(describing: refused))")
            return
        }
        #expect(error.code == .queueFull)
        #expect(error.limit == "queue_quota_per_sender")
        try await carol.send("carol gets through", to: "bob")
        #expect(try await relay.store.queuedCount(for: "bob") == 3)
        let log = try String(contentsOfFile: relay.directory + "/security.log", encoding: .utf8)
        #expect(log.split(separator: "\n").contains { $0.contains("\"queue_quota_per_sender\"") && $0.contains("\"user\":\"alice\"") })
        await alice.close()
        await carol.close()
        await relay.stop()
    }

    @Test("connections over the per-address limit are refused with the limit's name")
    func perAddressLimit() async throws {
        let relay = try await TestRelay.start { $0.maxConnectionsPerAddress = 2 }
        let first = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        let second = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        let third = try await RawTLSClient.connect(port: relay.port, trust: relay.trust)
        let frames = try await third.exchange([])
        guard case .error(let error) = frames.last?.body else {
            Issue.record("expected an error frame")
            return
        }
        #expect(error.code == .tooManyConnections)
        #expect(error.limit == "connections_per_address")
        await first.close()
        await second.close()
        await relay.stop()
    }

    @Test("a user whose one-time prekeys run low is told so")
    func prekeysLow() async throws {
        let relay = try await TestRelay.start { $0.lowPrekeyThreshold = 100 }
        let alice = try await relay.makeUser("alice")
        let bob = try await relay.makeUser("bob")
        let bobLink = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await bobLink.authenticate(.login, username: "bob", identity: bob.identity)
        let aliceLink = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await aliceLink.authenticate(.login, username: "alice", identity: alice.identity)
        var fetch = WireFetchBundle()
        fetch.username = "bob"
        let reply = try await aliceLink.request(.fetchBundle(fetch))
        guard case .bundle(let bundle) = reply.body else {
            Issue.record("expected a bundle")
            return
        }
        #expect(bundle.bundle.hasOneTimePrekey)
        var remaining: Int?
        for await event in bobLink.events {
            if case .prekeysLow(let count) = event {
                remaining = count
                break
            }
        }
        #expect(remaining == 99)
        await aliceLink.close()
        await bobLink.close()
        await relay.stop()
    }
}

@Suite("Trust policy", .serialized)
struct TrustPolicyTests {
    @Test("a second client cannot open a home another owns; a contact verified through the owner shows as verified at once")
    func verifiedThroughOwner() async throws {
        let relay = try await TestRelay.start()
        let home = TestRelay.temporaryHome()
        let alice = try await relay.makeUser("alice", home: home)
        let bob = try await relay.makeUser("bob")
        let events = EventCollector()
        await events.follow(alice)
        try await alice.start()
        try await bob.start()
        try await bob.send("first", to: "alice")
        #expect(await events.wait { await $0.messages.count == 1 })
        #expect(await events.messages.first?.verified == false)

        // No second client can open the home while this one owns it: `cipherchat verify` in
        // another terminal goes through the owner's local API, which verifies on this client.
        #expect {
            _ = try ChatClient.open(home: home, passphrase: "test passphrase")
        } throws: { error in
            if case ClientError.homeOwned = error { true } else { false }
        }
        let (number, _) = try await alice.safetyNumber(with: "bob")
        #expect(try await alice.verify("bob", safetyNumber: number.description))

        try await bob.send("second", to: "alice")
        #expect(await events.wait { await $0.messages.count == 2 })
        #expect(await events.messages.last?.verified == true)
        await alice.stop()
        await bob.stop()
        await relay.stop()
    }

    @Test("with the verified policy, nothing goes to a contact until the safety number is confirmed")
    func verifiedOnly() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        _ = try await relay.makeUser("bob")
        try await alice.setTrustPolicy(.verifiedOnly)
        try await alice.start()
        await #expect(throws: ClientError.contactNotVerified("bob")) { try await alice.send("too early", to: "bob") }
        let (number, _) = try await alice.safetyNumber(with: "bob")
        #expect(try await !alice.verify("bob", safetyNumber: "00000 00000"))
        #expect(try await alice.verify("bob", safetyNumber: number.description))
        try await alice.send("now verified", to: "bob")
        #expect(try await relay.store.queuedCount(for: "bob") == 1)
        await alice.stop()
        await relay.stop()
    }
}
