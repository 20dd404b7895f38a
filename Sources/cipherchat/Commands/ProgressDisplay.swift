import CipherClient
import CipherCore
import Foundation
import Synchronization

/// The progress of `file send` and `file get` on standard error, redrawn in place (at most ten
/// times a second): percentage, bar, bytes, rate and time left, and "resuming at N%" first when
/// an interrupted transfer picks up. Only on a terminal: piped or redirected, and with
/// TERM=dumb, nothing is drawn, so scripts see only the result line.
final class ProgressDisplay: Sendable {
    private struct State {
        var started: ContinuousClock.Instant?
        var startedAt: UInt64 = 0
        var lastDrawn: ContinuousClock.Instant?
        var lastProgress: TransferProgress?
        var toldResume = false
    }

    private let name: String
    private let write: @Sendable (String) -> Void
    private let state = Mutex(State())
    private static let redrawInterval = Duration.milliseconds(100)

    init(name: String, write: @escaping @Sendable (String) -> Void) {
        self.name = TerminalText.line(name)
        self.write = write
    }

    /// A display on standard error for a transfer of `name`, or nil when standard error is not
    /// a terminal one can draw on.
    static func onTerminal(name: String) -> ProgressDisplay? {
        guard isatty(STDERR_FILENO) == 1, ProcessInfo.processInfo.environment["TERM"] != "dumb" else { return nil }
        return ProgressDisplay(name: name) { text in FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// Runs a transfer with its progress shown on standard error when that is a terminal; the
    /// line is ended before this returns or throws, so what is printed next starts a line.
    static func showing<Result>(name: String, _ transfer: (TransferProgressHandler?) async throws -> Result) async throws -> Result {
        let display = onTerminal(name: name)
        defer { display?.finish() }
        return try await transfer(display.map { display in { @Sendable step in display.update(step) } })
    }

    func update(_ progress: TransferProgress) {
        let now = ContinuousClock.now
        let text: String? = state.withLock { state in
            var prefix = ""
            if state.started == nil || progress.bytesDone < state.startedAt {
                // A new attempt (a reconnection starts one): the rate counts from here.
                state.started = now
                state.startedAt = progress.bytesDone
            }
            if progress.resumedAt > 0, !state.toldResume {
                state.toldResume = true
                prefix = "resuming at \(Self.percent(progress.resumedAt, of: progress.totalBytes))%\n"
            }
            state.lastProgress = progress
            let finished = progress.bytesDone >= progress.totalBytes
            if let last = state.lastDrawn, now - last < Self.redrawInterval, !finished, prefix.isEmpty { return nil }
            state.lastDrawn = now
            return prefix + "\r" + line(progress, state: state, now: now) + "\u{1B}[K"
        }
        if let text { write(text) }
    }

    /// Ends the line, leaving the last state drawn.
    func finish() {
        let drawn = state.withLock { $0.lastDrawn != nil }
        if drawn { write("\n") }
    }

    private func line(_ progress: TransferProgress, state: State, now: ContinuousClock.Instant) -> String {
        var rate: Double?
        if let started = state.started {
            let seconds = Double((now - started).components.attoseconds) / 1e18 + Double((now - started).components.seconds)
            if seconds >= 0.2 { rate = Double(progress.bytesDone - min(progress.bytesDone, state.startedAt)) / seconds }
        }
        return ProgressLine.render(name: name, done: progress.bytesDone, total: progress.totalBytes, bytesPerSecond: rate)
    }

    static func percent(_ done: UInt64, of total: UInt64) -> Int {
        total == 0 ? 100 : Int(min(done, total) * 100 / total)
    }
}

/// One line of progress, as `ProgressDisplay` draws it:
/// `report.pdf  37% [#######.............]  12.0/32.0 MiB  45.1 MiB/s  0:01 left`.
enum ProgressLine {
    static let barWidth = 20

    static func render(name: String, done: UInt64, total: UInt64, bytesPerSecond: Double?) -> String {
        let percent = ProgressDisplay.percent(done, of: total)
        let filled = percent * barWidth / 100
        let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]"
        let shortName = name.count > 32 ? String(name.prefix(31)) + "…" : name
        var text = "\(shortName) \(String(repeating: " ", count: max(0, 3 - String(percent).count)))\(percent)% \(bar) \(amounts(done, of: total))"
        if let bytesPerSecond, bytesPerSecond > 0 {
            text += "  \(size(bytesPerSecond))/s"
            if done < total { text += "  \(clock(Double(total - done) / bytesPerSecond)) left" }
        }
        return text
    }

    /// `12.0/32.0 MiB`, in the unit of the total.
    static func amounts(_ done: UInt64, of total: UInt64) -> String {
        let (divisor, unit) = unit(for: Double(total))
        return String(format: "%.1f/%.1f %@", Double(done) / divisor, Double(total) / divisor, unit)
    }

    static func size(_ bytes: Double) -> String {
        let (divisor, unit) = unit(for: bytes)
        return String(format: "%.1f %@", bytes / divisor, unit)
    }

    /// `m:ss`, or `h:mm:ss` past an hour; `--:--` beyond a day.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 86_400 else { return "--:--" }
        let whole = Int(seconds.rounded(.up))
        let (hours, minutes, rest) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, rest) : String(format: "%d:%02d", minutes, rest)
    }

    private static func unit(for bytes: Double) -> (Double, String) {
        switch bytes {
        case ..<1024: (1, "B")
        case ..<(1024 * 1024): (1024, "KiB")
        case ..<(1024 * 1024 * 1024): (1024 * 1024, "MiB")
        default: (1024 * 1024 * 1024, "GiB")
        }
    }
}
