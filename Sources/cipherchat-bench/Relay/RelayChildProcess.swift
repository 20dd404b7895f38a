#if canImport(Glibc)
import Glibc
#endif
import CipherCore
import CipherNIO
import Foundation

/// A relay in a child process (`cipherchat server`), so that its CPU time and memory can be
/// read exactly from /proc, apart from the clients' share.
final class RelayChildProcess: @unchecked Sendable {
    let process: Process
    let directory: String
    let host = "127.0.0.1"
    let port: Int
    let certificateHash: [UInt8]

    var trust: RelayTLS.ServerTrust { .pinned(certificateHash: certificateHash) }
    var pid: Int32 { process.processIdentifier }

    /// Starts `cipherchat server` on port 0 with limits raised for load, and waits (at most
    /// 30 s) for its ready line: `listening on HOST:PORT tls-sha256=HEX`.
    /// `extraArguments` are added to the server's (a PostgreSQL URL, a shared certificate).
    static func start(in directory: String, maxConnections: Int = 19_000, extraArguments: [String] = []) throws -> RelayChildProcess {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try relayExecutable())
        process.arguments = [
            "server", "--host", "127.0.0.1", "--port", "0", "--data", directory,
            "--messages-per-second", "1000000000", "--message-burst", "1000000000",
            "--max-connections-per-address", String(maxConnections), "--max-connections", String(maxConnections),
            "--queue-quota", "10000000", "--log-level", "error", "--metrics-port", "0",
        ] + extraArguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        guard let line = readLine(from: output.fileHandleForReading, timeoutSeconds: 30) else {
            process.terminate()
            throw BenchFailure(description: "the relay child printed no ready line")
        }
        // listening on 127.0.0.1:PORT tls-sha256=HEX
        let words = line.split(separator: " ")
        guard words.count == 4, let portText = words[2].split(separator: ":").last, let port = Int(portText),
              words[3].hasPrefix("tls-sha256="), let hash = Hex.decode(String(words[3].dropFirst("tls-sha256=".count))) else {
            process.terminate()
            throw BenchFailure(description: "unexpected ready line: \(line)")
        }
        return RelayChildProcess(process: process, directory: directory, port: port, certificateHash: hash)
    }

    private init(process: Process, directory: String, port: Int, certificateHash: [UInt8]) {
        self.process = process
        self.directory = directory
        self.port = port
        self.certificateHash = certificateHash
    }

    /// User plus system CPU seconds the relay has used so far (/proc/PID/stat fields 14, 15).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .nan }
        // Fields after the command name, which may hold spaces; field 3 (state) comes first.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return .nan }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The relay's resident set in KiB (VmRSS in /proc/PID/status).
    func residentKiB() -> Int { Self.residentKiB(pid: pid) }

    static func residentKiB(pid: Int32?) -> Int {
        ProcessStatus.kibibytes("VmRSS", pid: pid) ?? -1
    }

    /// SIGTERM (a clean shutdown), then SIGKILL after 3 s; the data directory is removed.
    func stop() {
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The shipped `cipherchat`, beside this executable in the same build directory, so that
    /// the relay measured is the product's own; `$CIPHERCHAT_BINARY` names another.
    static func relayExecutable() throws -> String {
        if let chosen = ProcessInfo.processInfo.environment["CIPHERCHAT_BINARY"], !chosen.isEmpty { return chosen }
        let own = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let sibling = ((own as NSString).deletingLastPathComponent as NSString).appendingPathComponent("cipherchat")
        guard FileManager.default.isExecutableFile(atPath: sibling) else {
            throw BenchFailure(description: "no cipherchat beside \(own): build it with the same configuration "
                + "(swift build --product cipherchat), or name it in CIPHERCHAT_BINARY")
        }
        return sibling
    }

    /// One line from `handle`, or nil when none arrives in time.
    private static func readLine(from handle: FileHandle, timeoutSeconds: Double) -> String? {
        let descriptor = handle.fileDescriptor
        var collected: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 200) >= 0 else { return nil }
            guard poller.revents != 0 else { continue }
            var byte: UInt8 = 0
            guard read(descriptor, &byte, 1) == 1 else { return nil }
            if byte == UInt8(ascii: "\n") { return String(decoding: collected, as: UTF8.self) }
            collected.append(byte)
        }
        return nil
    }
}

/// This process's own CPU seconds (user plus system), for the clients' share.
func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
