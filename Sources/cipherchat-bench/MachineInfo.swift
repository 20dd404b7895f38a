#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// What the figures were measured on. The Swift toolchain is not visible at run time, so the
/// caller passes its `swift --version` line in (`--swift-version`).
struct MachineInfo: Codable, Sendable {
    var cpuModel: String
    var logicalCores: Int
    /// The CPU features that decide AES-GCM, SHA-256 and RSA speed, as /proc/cpuinfo lists them.
    var cpuFeatures: [String]
    var kernel: String
    var swiftVersion: String?
    var buildConfiguration: String

    static let relevantFeatures = ["aes", "pclmulqdq", "vaes", "vpclmulqdq", "avx2", "avx512f", "avx512ifma", "sha_ni", "adx", "bmi2"]

    static func current(swiftVersion: String?) -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let flags = Set(firstValue(named: "flags", in: cpuinfo)?.split(separator: " ").map(String.init) ?? [])
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        return MachineInfo(
            cpuModel: firstValue(named: "model name", in: cpuinfo) ?? "unknown",
            logicalCores: ProcessInfo.processInfo.activeProcessorCount,
            cpuFeatures: relevantFeatures.filter(flags.contains),
            kernel: unameDescription(),
            swiftVersion: swiftVersion,
            buildConfiguration: configuration
        )
    }

    /// The value of the first `name : value` line of a /proc/cpuinfo text.
    private static func firstValue(named name: String, in cpuinfo: String) -> String? {
        for line in cpuinfo.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// `sysname release machine`, as `uname -srm` prints it.
    private static func unameDescription() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "unknown" }
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
        }
        return "\(field(names.sysname)) \(field(names.release)) \(field(names.machine))"
    }
}
