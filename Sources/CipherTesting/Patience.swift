import Foundation

/// How long a test waits for something that is sure to happen, on a machine that may be busy.
///
/// A wait ends as soon as its condition holds, so a long bound costs nothing when all is well:
/// it only decides how late a real failure is reported. The bound is a base figure stretched by
/// the machine's load per core when the wait starts (at most tenfold), so a suite running
/// hundreds of processes on two cores is not failed by a figure chosen on a quiet machine.
public enum Patience {
    /// `base`, stretched by the one-minute load average per core (1× to 10×).
    public static func scaled(_ base: Duration) -> Duration {
        base * loadFactor()
    }

    /// The instant by which a wait of `base` (scaled) gives up.
    public static func deadline(_ base: Duration) -> ContinuousClock.Instant {
        ContinuousClock.now + scaled(base)
    }

    /// Polls `condition` every `interval` until it holds, for at most `base` (scaled); says
    /// whether it held.
    public static func poll(
        upTo base: Duration, every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = deadline(base)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: interval)
        }
        return try await condition()
    }

    private static func loadFactor() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
              let first = text.split(separator: " ").first, let load = Double(first)
        else { return 1 }
        let perCore = load / Double(max(1, ProcessInfo.processInfo.activeProcessorCount))
        return min(10, max(1, perCore))
    }
}
