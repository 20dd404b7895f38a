import CipherTesting
import Foundation
import Testing

@Suite("The relay's monitoring listener", .timeLimit(.minutes(15)))
struct MonitoringTests {
    @Test("/metrics counts a conversation, and promtool accepts the exposition", RequiredTool.promtool.trait)
    func metricsPassPromtool() async throws {
        let relay = try await RelayProcess()
        let monitoring = try relay.requireMonitoring()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: relay.requireEndpoint()).requireSuccess()
        try await bob.initialize(on: relay.requireEndpoint()).requireSuccess()
        try await alice.send("counted", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["counted"])

        // The acknowledgement's deletion commits with the store's next batch, a moment after
        // `recv` has exited: scrape until it shows (bounded).
        var scrape = try await monitoring.get("/metrics")
        for _ in 0..<50 where PrometheusSamples(scrape.body).value("cipherchat_queued_envelopes") != 0 {
            try await Task.sleep(for: .milliseconds(100))
            scrape = try await monitoring.get("/metrics")
        }
        #expect(scrape.status == 200)
        #expect(scrape.contentType.hasPrefix("text/plain; version=0.0.4"))
        let samples = PrometheusSamples(scrape.body)
        #expect(samples.value("cipherchat_envelopes_accepted_total") == 1, "\(scrape.body)")
        #expect(samples.value("cipherchat_envelopes_delivered_total") == 1)
        #expect(samples.value("cipherchat_envelopes_acknowledged_total") == 1)
        #expect(samples.value("cipherchat_delivery_latency_seconds_count") == 1)
        #expect((samples.value("cipherchat_relayed_bytes_total{direction=\"in\"}") ?? 0) > 0)
        #expect(samples.value("cipherchat_queued_envelopes") == 0)
        #expect(samples.value("cipherchat_limit_rejections_total{limit=\"message_rate\"}") == 0)
        #expect(samples.value("cipherchat_authentication_failures_total{reason=\"bad_proof\"}") == 0)
        for name in [
            "cipherchat_connections_open", "cipherchat_users_logged_in", "cipherchat_envelopes_expired_total",
            "cipherchat_malformed_frames_total", "cipherchat_store_errors_total{operation=\"send\"}",
            "cipherchat_store_available",
        ] {
            #expect(samples.value(name) != nil, "no \(name) in the exposition")
        }

        let check = try await Promtool.checkMetrics(scrape.body)
        #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics complained:\n\(check.output)")
    }

    @Test("/healthz and /readyz answer JSON; an unknown path is 404")
    func healthAndReadiness() async throws {
        let relay = try await RelayProcess()
        let monitoring = try relay.requireMonitoring()
        let health = try await monitoring.get("/healthz")
        #expect(health.status == 200)
        #expect(health.contentType == "application/json")
        #expect(health.body == "{\"status\":\"alive\"}\n")
        let ready = try await monitoring.get("/readyz")
        #expect(ready.status == 200)
        #expect(ready.body == "{\"status\":\"ready\"}\n")
        #expect(try await monitoring.get("/nothing").status == 404)
    }

    @Test("the relay's release is in its start line and in /metrics as cipherchat_build_info, the one --version prints")
    func releaseShown() async throws {
        let relay = try await RelayProcess()
        let directory = try TemporaryDirectory(prefix: "release")
        let version = try await ChildProcess.run(
            CipherBinary.url(), ["--version"], environment: CipherBinary.environment(), outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess().outputLines.first ?? ""
        let samples = PrometheusSamples(try await relay.requireMonitoring().get("/metrics").body)
        #expect(samples.value("cipherchat_build_info{version=\"\(version)\"}") == 1)
        #expect(relay.readLogs().contains("starting cipherchat \(version)"), "\(relay.readLogs())")
    }
}

/// Prometheus's `promtool`, from Debian's `prometheus` package (`.ci/run` installs it).
enum Promtool {
    static let path = RequiredTool.promtool.path

    /// `promtool check metrics` on `exposition`: its status and everything it printed.
    static func checkMetrics(_ exposition: String) async throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("\(path) is missing: install Debian's prometheus package (.ci/run does)")
        }
        guard !exposition.isEmpty else { throw HarnessError("the exposition is empty; promtool would pass it") }
        let directory = try TemporaryDirectory(prefix: "promtool")
        let input = directory.url.appending(path: "metrics.txt")
        try Data(exposition.utf8).write(to: input)
        // promtool reads the exposition on standard input; a shell redirects the file into it.
        let result = try await ChildProcess.run(
            URL(filePath: "/bin/sh"), ["-c", "exec \"$0\" check metrics < \"$1\"", path, input.path],
            environment: ProcessInfo.processInfo.environment, outputDirectory: directory.url, timeout: .seconds(30)
        )
        return (result.status, result.standardOutput + result.standardError)
    }
}
