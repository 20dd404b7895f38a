import CipherClient
import CipherCore
import CipherRelay
import CipherServer
import CipherTesting
import Foundation
import NIOHTTP1
import Testing

@Suite("Metrics and readiness of a relay in this process")
struct MonitoringEndpointTests {
    private func scrape(_ endpoints: MonitoringEndpoints) async -> PrometheusSamples {
        let response = await endpoints.respond(method: .GET, uri: "/metrics")
        return PrometheusSamples(String(decoding: response.body, as: UTF8.self))
    }

    @Test("refusals are counted by limit and by reason; connections and users are gauged")
    func refusalsAreCounted() async throws {
        let metrics = RelayMetrics()
        let relay = try await TestRelay.start(observer: metrics)
        let endpoints = MonitoringEndpoints(metrics: metrics, server: relay.server, store: relay.store)

        // Fixed identities: no key generation in a debug build.
        let alice = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await alice.authenticate(.register, username: "alice", identity: TestIdentities.alice)
        for purpose in [RelayAuthentication.Purpose.register, .login] {
            let mallory = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
            await #expect(throws: RelayError.self) {
                _ = try await mallory.authenticate(purpose, username: "alice", identity: TestIdentities.mallory)
            }
            await mallory.close()
        }
        _ = try await RawTLSClient.connect(port: relay.port, trust: relay.trust).exchange([0, 0, 0, 3, 0xff, 0xff, 0xff])
        _ = try await RawTLSClient.connect(port: relay.port, trust: relay.trust).exchange([0x01, 0, 0, 0])

        let online = try await waitFor(endpoints) { $0.value("cipherchat_users_logged_in") == 1 && $0.value("cipherchat_connections_open") == 1 }
        #expect(online.value("cipherchat_authentication_failures_total{reason=\"username_taken\"}") == 1)
        #expect(online.value("cipherchat_authentication_failures_total{reason=\"bad_proof\"}") == 1)
        #expect(online.value("cipherchat_malformed_frames_total") == 1)
        #expect(online.value("cipherchat_limit_rejections_total{limit=\"frame_size\"}") == 1)
        #expect(online.value("cipherchat_connections_open") == 1)
        #expect(online.value("cipherchat_store_errors_total{operation=\"send\"}") == 0)
        #expect(online.value("cipherchat_store_available") == 1)
        await alice.close()
        await relay.stop()
    }

    @Test("/readyz answers 503 store_unreachable once the store fails, and the scrape counts it")
    func storeUnreachable() async throws {
        let metrics = RelayMetrics()
        let relay = try await TestRelay.start(observer: metrics)
        let endpoints = MonitoringEndpoints(metrics: metrics, server: relay.server, store: relay.store)
        // Ready once the store answers within the readiness timeout; a machine busy with the
        // rest of the suite may miss the first one, so ask a few times (bounded).
        var status = await endpoints.respond(method: .GET, uri: "/readyz").status
        for _ in 0..<10 where status != .ok {
            try await Task.sleep(for: .milliseconds(500))
            status = await endpoints.respond(method: .GET, uri: "/readyz").status
        }
        #expect(status == .ok)

        try await relay.store.close()
        let ready = await endpoints.respond(method: .GET, uri: "/readyz")
        #expect(ready.status == .serviceUnavailable)
        #expect(String(decoding: ready.body, as: UTF8.self) == "{\"status\":\"store_unreachable\"}\n")
        #expect(await endpoints.respond(method: .GET, uri: "/healthz").status == .ok)
        let samples = await scrape(endpoints)
        #expect(samples.value("cipherchat_store_errors_total{operation=\"maintenance\"}") == 1)
        #expect(samples.value("cipherchat_store_available") == 0)
        await relay.stop()
    }

    @Test("/readyz answers 503 draining once the relay is stopping; other methods and paths are refused")
    func drainingAndRefusals() async throws {
        let metrics = RelayMetrics()
        let relay = try await TestRelay.start(observer: metrics)
        let endpoints = MonitoringEndpoints(metrics: metrics, server: relay.server, store: relay.store)
        #expect(await endpoints.respond(method: .POST, uri: "/metrics").status == .methodNotAllowed)
        #expect(await endpoints.respond(method: .GET, uri: "/metrics/../etc").status == .notFound)
        #expect(await endpoints.respond(method: .GET, uri: "/healthz?verbose=1").status == .ok)
        await relay.stop()
        let ready = await endpoints.respond(method: .GET, uri: "/readyz")
        #expect(ready.status == .serviceUnavailable)
        #expect(String(decoding: ready.body, as: UTF8.self) == "{\"status\":\"draining\"}\n")
    }

    /// Scrapes until `condition` holds, at most 10 s.
    private func waitFor(_ endpoints: MonitoringEndpoints, _ condition: (PrometheusSamples) -> Bool) async throws -> PrometheusSamples {
        for _ in 0..<500 {
            let samples = await scrape(endpoints)
            if condition(samples) { return samples }
            try await Task.sleep(for: .milliseconds(20))
        }
        return await scrape(endpoints)
    }
}

@Suite("Going away")
struct GoingAwayTests {
    @Test("a client that logs in after the shutdown was announced is told to go away at once")
    func lateLoginIsToldToGoAway() async throws {
        let relay = try await TestRelay.start()
        await relay.server.service.announceShutdown()
        let link = try await RelayLink.connect(host: "127.0.0.1", port: relay.port, trust: relay.trust)
        _ = try await link.authenticate(.register, username: "carol", identity: TestIdentities.carol)
        let told = Task {
            for await event in link.events {
                if case .goingAway = event { return true }
            }
            return false
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            told.cancel()
        }
        #expect(await told.value, "no GoingAway after logging in")
        timeout.cancel()
        await link.close()
        await relay.stop()
    }
}
