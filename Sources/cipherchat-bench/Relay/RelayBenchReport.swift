import Foundation

/// Every figure of one `cipherchat-bench relay` run; field names carry their units.
struct RelayBenchReport: Codable, Sendable {
    var machine: MachineInfo
    var profile: String
    /// Where the relay's and the clients' SQLite files lived, and its file system.
    var scratchDirectory: String
    var scratchFileSystem: String
    var loopbackTCPRoundTripMedianMicroseconds: Double
    var loopbackTCPRoundTripP99Microseconds: Double
    var syncedWriteMedianMilliseconds: Double
    var latency: ClientLatencyFigures?
    var throughput: [ThroughputFigure]?
    /// What the throughput section ran against (`--postgres`, `--instances`).
    var deployment: String?
    var idleConnections: IdleConnectionFigures?

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    var text: String {
        var lines: [String] = []
        func row(_ label: String, _ value: String, _ detail: String = "") {
            let padded = label.padding(toLength: max(label.count, 50), withPad: " ", startingAt: 0)
            lines.append("  \(padded)\(String(repeating: " ", count: max(0, 14 - value.count)))\(value)\(detail.isEmpty ? "" : "   " + detail)")
        }
        func number(_ value: Double, _ unit: String, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) + " " + unit }

        lines.append("cipherchat-bench relay (\(profile) profile, \(machine.buildConfiguration) build)")
        if machine.buildConfiguration != "release" {
            lines.append("warning: not a release build; these figures say nothing about production speed")
        }
        row("CPU", "\(machine.cpuModel), \(machine.logicalCores) logical cores")
        row("kernel", machine.kernel)
        row("swift", machine.swiftVersion ?? "not given (pass --swift-version)")
        row("stores in", "\(scratchDirectory) (\(scratchFileSystem))")
        lines.append("")
        lines.append("Baselines (same run)")
        row("plain TCP loopback round trip, 200 B, p50", number(loopbackTCPRoundTripMedianMicroseconds, "µs", 1),
            "p99 \(number(loopbackTCPRoundTripP99Microseconds, "µs", 1))")
        row("4 KiB write + fdatasync in the store directory, p50", number(syncedWriteMedianMilliseconds, "ms", 3))
        if let latency {
            lines.append("")
            lines.append("Latency through ChatClient on both ends (in-process relay, TLS on loopback)")
            row("first message to a new contact, p50", number(latency.firstMessageMedianMilliseconds, "ms", 2),
                "p90 \(number(latency.firstMessageP90Milliseconds, "ms", 2)), n=\(latency.pairs) fresh pairs   [target < 2 ms]")
            row("round trip, \(latency.payloadBytes) B each way, p50", number(latency.roundTripMedianMilliseconds, "ms", 3),
                "[target < 0.25 ms]")
            row("round trip, p99", number(latency.roundTripP99Milliseconds, "ms", 3), "n=\(latency.roundTrips)   [target < 0.5 ms]")
            row("round trip after \(latency.earlierMessages) more each way, p50", number(latency.longConversationRoundTripMedianMilliseconds, "ms", 3),
                "p99 \(number(latency.longConversationRoundTripP99Milliseconds, "ms", 3)), n=\(latency.longConversationRoundTrips)")
        }
        if let throughput {
            lines.append("")
            lines.append("Delivered and decrypted messages (\(deployment ?? "1 relay on SQLite") in child processes; RelayLink + Session clients)")
            for figure in throughput {
                if let stalled = figure.stalled, figure.delivered == 0 {
                    row("\(figure.pairs) pair(s): STALLED", "", stalled)
                    continue
                }
                if let stalled = figure.stalled { row("\(figure.pairs) pair(s): stalled at the end", "", stalled) }
                row("\(figure.pairs) pair(s), \(figure.inFlightPerSender) in flight per sender", number(figure.messagesPerSecond, "msg/s", 0),
                    "\(figure.delivered) in \(number(figure.measuredSeconds, "s", 1))" + (figure.pairs == 50 ? "   [target ≥ 70000 msg/s]" : ""))
                row("  relay CPU per message", number(figure.relayCPUMicrosecondsPerMessage, "µs", 1),
                    "relay \(number(figure.relayCoresBusy, "cores", 2)) busy   [target < 10 µs]")
                row("  clients' CPU per message (this process)", number(figure.clientsCPUMicrosecondsPerMessage, "µs", 1),
                    "clients \(number(figure.clientCoresBusy, "cores", 2)) busy")
                if let p50 = figure.deliveryLatencyMedianMilliseconds, let p99 = figure.deliveryLatencyP99Milliseconds {
                    row("  send to delivery, under this load, p50", number(p50, "ms", 2), "p99 \(number(p99, "ms", 2))")
                }
            }
        }
        if let idle = idleConnections {
            lines.append("")
            lines.append("Idle authenticated TLS connections (relay in a child process)")
            row("held", "\(idle.held) of \(idle.requested)",
                "\(idle.users) users; relay has \(idle.relayOpenDescriptors) descriptors open; opened in \(number(idle.openingSeconds, "s", 1))")
            row("relay resident memory per connection", number(idle.relayKiBPerConnection, "KiB", 1),
                "VmRSS \(idle.relayResidentBeforeKiB) -> \(idle.relayResidentAfterKiB) KiB   [target < 32 KiB at 10000]")
            row("client side, per connection (this process)", number(idle.clientKiBPerConnection, "KiB", 1))
        }
        return lines.joined(separator: "\n")
    }
}
