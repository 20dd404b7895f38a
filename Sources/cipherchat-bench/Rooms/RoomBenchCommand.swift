import ArgumentParser
import CipherCore
import Foundation

/// `cipherchat-bench rooms`: room fan-out through a relay in a child process, over real TLS on
/// loopback, beside a plain TCP round trip measured in the same run. docs/BENCHMARKS.md records
/// the figures against the project's target.
struct RoomBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rooms",
        abstract: "Measure room messages delivered per second in a room of 50 members.",
        discussion: """
            Starts `cipherchat server` as a child process, registers the members, creates the \
            room with signed statements, then lets some members send group messages as fast as \
            the relay accepts them while every member's connection receives and acknowledges its \
            copies. Delivered counts copies received by members; the cost of a member decrypting \
            one is measured separately. Build with -c release.
            """
    )

    @ParentCommand var bench: BenchCommand

    @Flag(name: .customLong("json"), help: "Print one JSON object with every figure instead of the text report.")
    var jsonFlag = false

    @Option(help: "Members of the room.")
    var members = 50

    @Option(parsing: .upToNextOption, help: "How many members send, one run for each count.")
    var senders: [Int] = [1, 4]

    @Option(help: "Room messages in flight per sender.")
    var inFlight = 32

    @Option(help: "Seconds measured per run (after a warm-up of a third of that).")
    var seconds = 6.0

    @Option(help: "Directory for the relay's SQLite files (default: the system temporary directory).")
    var scratch: String?

    func validate() throws {
        guard (2...500).contains(members) else { throw ValidationError("--members takes 2 to 500") }
        guard senders.allSatisfy({ (1...members).contains($0) }) else { throw ValidationError("--senders takes 1 to --members") }
        guard (1...256).contains(inFlight) else { throw ValidationError("--in-flight takes 1 to 256") }
        guard (1...120).contains(seconds) else { throw ValidationError("--seconds takes 1 to 120") }
    }

    struct Report: Codable, Sendable {
        var machine: MachineInfo
        var loopbackTCPRoundTripMedianMicroseconds: Double
        var runs: [RoomFanOutFigure]
    }

    func run() async throws {
        let base = (scratch ?? FileManager.default.temporaryDirectory.path) + "/cipherchat-bench-rooms-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }
        progress("baseline: plain TCP loopback round trip")
        let loopback = try LoopbackBaseline.roundTrips(count: 5_000, budget: .seconds(5))
        progress("generating an identity")
        let identity = try PrivateIdentity.generate()
        var runs: [RoomFanOutFigure] = []
        for (index, count) in senders.enumerated() {
            progress("\(members) members, \(count) sending")
            // A fresh relay for each run: one run's queues never slow the next.
            let relay = try RelayChildProcess.start(in: base + "/relay-\(index)")
            defer { relay.stop() }
            runs.append(try await RoomFanOutBench.run(
                relay: relay, identity: identity, members: members, senders: count, inFlight: inFlight,
                warmUp: .milliseconds(Int(seconds * 1000 / 3)), window: .milliseconds(Int(seconds * 1000)), progress: progress
            ))
        }
        let report = Report(
            machine: .current(swiftVersion: bench.swiftVersion), loopbackTCPRoundTripMedianMicroseconds: loopback.median * 1e6, runs: runs
        )
        if jsonFlag || bench.json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(text(report))
        }
    }

    private func text(_ report: Report) -> String {
        var lines = ["cipherchat-bench rooms (\(report.machine.buildConfiguration) build)"]
        if report.machine.buildConfiguration != "release" {
            lines.append("warning: not a release build; these figures say nothing about production speed")
        }
        lines.append("  CPU \(report.machine.cpuModel), \(report.machine.logicalCores) logical cores")
        lines.append(String(format: "  baseline: plain TCP loopback round trip, 200 B, p50 %.1f µs", report.loopbackTCPRoundTripMedianMicroseconds))
        for run in report.runs {
            lines.append("")
            lines.append("  \(run.members) members, \(run.senders) sending, \(run.inFlightPerSender) in flight each" + (run.stalled.map { " (\($0))" } ?? ""))
            lines.append(String(format: "    delivered room messages  %10.0f /s   [target ≥ 100000 /s]   %d in %.1f s", run.deliveredPerSecond, run.delivered, run.measuredSeconds))
            lines.append(String(format: "    sent room messages       %10.0f /s", run.sentPerSecond))
            lines.append(String(format: "    relay CPU per delivery   %10.2f µs   relay %.2f cores busy", run.relayCPUMicrosecondsPerDelivery, run.relayCoresBusy))
            lines.append(String(format: "    clients' CPU per delivery%10.2f µs   clients %.2f cores busy", run.clientsCPUMicrosecondsPerDelivery, run.clientCoresBusy))
            lines.append(String(format: "    a member decrypting one  %10.2f µs   (Ed25519 verify + AES-256-GCM, alone)", run.memberDecryptMicrosecondsPerMessage))
        }
        return lines.joined(separator: "\n")
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("bench rooms: \(text)...\n".utf8))
    }
}
