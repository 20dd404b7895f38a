import Foundation

/// Memory figures from Linux's /proc/PID/status, for the benches.
enum ProcessStatus {
    /// A `NAME:   VALUE kB` field (VmRSS, VmHWM) of `pid`'s status, or this process's when nil.
    static func kibibytes(_ field: String, pid: Int32? = nil) -> Int? {
        let path = pid.map { "/proc/\($0)/status" } ?? "/proc/self/status"
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.filter(\.isNumber))
        }
        return nil
    }
}
