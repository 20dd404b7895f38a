import Foundation

/// A child's peak resident memory, from `VmHWM` in /proc/PID/status. The kernel forgets it when
/// the process is reaped, so it is sampled while the child runs; the high-water mark only
/// grows, and the last sample before exit is within one interval of the true peak.
enum PeakMemory {
    static let sampleInterval = Duration.milliseconds(25)

    /// `VmHWM` in bytes, or nil when the process is gone.
    static func highWaterMark(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let digits = line.dropFirst("VmHWM:".count).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    /// Waits for `child` to exit (at most `timeout`), sampling its peak memory meanwhile; returns
    /// the exit status (nil on timeout, the child then killed) and the largest peak seen.
    static func watch(_ child: ChildProcess, timeout: Duration) async -> (status: Int32?, peakBytes: Int) {
        let deadline = ContinuousClock.now + timeout
        var peak = 0
        while ContinuousClock.now < deadline {
            if let sample = highWaterMark(pid: child.processIdentifier) { peak = max(peak, sample) }
            if let status = child.exitStatus { return (status, peak) }
            try? await Task.sleep(for: sampleInterval)
        }
        child.signal(SIGKILL)
        _ = await child.waitForExit(timeout: .seconds(5))
        return (nil, peak)
    }
}
