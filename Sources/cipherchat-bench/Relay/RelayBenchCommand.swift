import ArgumentParser
import CipherCore
import Foundation

/// `cipherchat-bench relay`: what the relay and the client library cost end to end, over
/// real TLS on loopback, beside a plain TCP round trip and a synced write measured in the
/// same run. docs/BENCHMARKS-RELAY.md records the figures against the project's targets.
struct RelayBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Measure message latency, relay throughput, relay CPU per message and memory per idle connection.",
        discussion: """
            Latency runs ChatClient against a relay in this process; throughput and idle \
            connections run against `cipherchat server` started as a child process, whose CPU \
            time and memory are read from /proc. Every section is bounded in count and time \
            (a few minutes in all; --quick well under one). Build with -c release.
            """
    )

    enum Section: String, CaseIterable, ExpressibleByArgument, Sendable {
        case latency, throughput, idle
    }

    /// `cipherchat-bench` defines --quick, --json and --swift-version too, and the parser gives
    /// a flag both define to the parent: each is read from either.
    @ParentCommand var bench: BenchCommand

    @Flag(name: .customLong("quick"), help: "Few iterations and 1,000 idle connections: a smoke test.")
    var quickFlag = false

    @Flag(name: .customLong("json"), help: "Print one JSON object with every figure instead of the text report.")
    var jsonFlag = false

    @Option(name: .customLong("swift-version"), help: "The toolchain's version line, recorded with the figures.")
    var swiftVersionOption: String?

    private var quick: Bool { quickFlag || bench.quick }
    private var json: Bool { jsonFlag || bench.json }
    private var swiftVersion: String? { swiftVersionOption ?? bench.swiftVersion }

    @Option(help: "Directory for the relay's and clients' SQLite files (default: the system temporary directory).")
    var scratch: String?

    @Option(name: .customLong("sections"), parsing: .upToNextOption, help: "Run only these sections (latency, throughput, idle).")
    var sections: [Section] = Section.allCases

    @Option(parsing: .upToNextOption, help: "Sender/receiver pair counts for the throughput section.")
    var pairs: [Int] = [1, 10, 50]

    @Option(help: "Sends in flight per sender in the throughput section.")
    var inFlight = 16

    @Option(help: "Idle connections to hold (default 10000; 1000 with --quick).")
    var connections: Int?

    @Option(help: ArgumentHelp(
        "Run the throughput section's relays on this PostgreSQL database instead of SQLite (users are made with fresh names).",
        valueName: "postgres://USER@HOST:PORT/DATABASE?sslmode=disable"
    ))
    var postgres: String?

    @Option(help: "Relays for the throughput section: 1, or 2 on --postgres behind HAProxy (each pair's sender and receiver on different relays).")
    var instances = 1

    @Option(help: "The HAProxy executable, for --instances 2.")
    var haproxy = "/usr/sbin/haproxy"

    func validate() throws {
        guard pairs.allSatisfy({ (1...200).contains($0) }) else { throw ValidationError("--pairs takes 1 to 200") }
        guard (1...256).contains(inFlight) else { throw ValidationError("--in-flight takes 1 to 256") }
        if let connections, !(1...15_000).contains(connections) { throw ValidationError("--connections takes 1 to 15000") }
        guard (1...2).contains(instances) else { throw ValidationError("--instances takes 1 or 2") }
        if instances == 2, postgres == nil { throw ValidationError("--instances 2 needs --postgres: the relays share its database") }
    }

    private var deployment: RelayDeployment.Kind {
        switch (postgres, instances) {
        case (let url?, 2): .postgresBehindHAProxy(url: url, haproxy: haproxy)
        case (let url?, _): .postgres(url: url)
        case (nil, _): .sqlite
        }
    }

    func run() async throws {
        let selected = Set(sections)
        let base = (scratch ?? FileManager.default.temporaryDirectory.path) + "/cipherchat-bench-relay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }

        progress("baselines: plain TCP loopback round trip, synced write")
        let loopback = try LoopbackBaseline.roundTrips(count: quick ? 2_000 : 20_000, budget: .seconds(5))
        let synced = try SyncBaseline.writeAndSync(in: base, count: quick ? 50 : 200, budget: .seconds(5))
        var report = RelayBenchReport(
            machine: .current(swiftVersion: swiftVersion), profile: quick ? "quick" : "full",
            scratchDirectory: scratch ?? FileManager.default.temporaryDirectory.path, scratchFileSystem: fileSystem(of: base),
            loopbackTCPRoundTripMedianMicroseconds: loopback.median * 1e6,
            loopbackTCPRoundTripP99Microseconds: loopback.percentile(0.99) * 1e6,
            syncedWriteMedianMilliseconds: synced.median * 1e3
        )

        if selected.contains(.latency) {
            progress("starting an in-process relay")
            let relay = try await InProcessRelay.start(in: base + "/in-process-relay")
            do {
                report.latency = try await ClientLatencyBench.run(
                    relay: relay, homes: base + "/homes", pairs: quick ? 5 : 20, roundTrips: quick ? 30 : 200,
                    earlierMessages: quick ? 300 : ReplayWindow.defaultCapacity + 200,
                    budget: .seconds(quick ? 10 : 60), progress: progress
                )
            } catch {
                await relay.stop()
                throw error
            }
            await relay.stop()
        }

        var parties: BenchParties?
        if !selected.isDisjoint(with: [.throughput, .idle]) {
            progress("generating two identities and their prekeys")
            parties = try BenchParties.generate()
        }
        if selected.contains(.throughput), let parties {
            var figures: [ThroughputFigure] = []
            // A database outlives the run: names there must be new (a name stays bound to its
            // identity, and each run generates new identities).
            let namePrefix = postgres == nil ? "" : String(UUID().uuidString.lowercased().prefix(8))
            for (index, count) in pairs.enumerated() {
                progress("throughput with \(count) pair(s), \(deployment)")
                // Fresh relays for each pair count: one run's leftovers never slow the next.
                let relay = try RelayDeployment.start(deployment, in: base + "/throughput-relay-\(index)")
                defer { relay.stop() }
                figures.append(try await RelayThroughputBench.run(
                    relay: relay, parties: parties, pairs: count, inFlight: inFlight,
                    warmUp: .milliseconds(quick ? 500 : 1_500), window: .seconds(quick ? 2 : 6), runID: namePrefix + String(index)
                ))
            }
            report.throughput = figures
            report.deployment = deployment.description
        }
        if selected.contains(.idle), let parties {
            let relay = try RelayChildProcess.start(in: base + "/idle-relay")
            defer { relay.stop() }
            report.idleConnections = try await IdleConnectionBench.run(
                relay: relay, identity: parties.alice, connections: connections ?? (quick ? 1_000 : 10_000),
                budget: .seconds(quick ? 60 : 240), progress: progress
            )
        }
        print(json ? try report.json() : report.text)
    }

    /// The file system type of `path`, as `stat -f` names it (tmpfs, ext4, ...).
    private func fileSystem(of path: String) -> String {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best = (point: "", type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 2 else { continue }
            let point = String(fields[1])
            if (path == point || path.hasPrefix(point == "/" ? "/" : point + "/")), point.count > best.point.count {
                best = (point, String(fields[2]))
            }
        }
        return best.type
    }

    /// Progress goes to standard error, so that `--json` output stays one clean object.
    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("bench relay: \(text)...\n".utf8))
    }
}
