import CipherTesting
import Foundation

/// Where a relay listens and the SHA-256 of its certificate, as its ready line says.
struct RelayEndpoint: Sendable, Equatable {
    let host: String
    let port: Int
    let fingerprint: String

    var address: String {
        "\(host):\(port)"
    }

    /// Parses `listening on HOST:PORT tls-sha256=HEX`.
    init?(readyLine: String) {
        let words = readyLine.split(separator: " ")
        guard words.count == 4, words[0] == "listening", words[1] == "on", words[3].hasPrefix("tls-sha256="),
              let colon = words[2].lastIndex(of: ":"), let port = Int(words[2][words[2].index(after: colon)...]) else { return nil }
        host = String(words[2][..<colon])
        self.port = port
        fingerprint = String(words[3].dropFirst("tls-sha256=".count))
        guard fingerprint.count == 64, fingerprint.allSatisfy(\.isHexDigit) else { return nil }
    }
}

/// `cipherchat server` as a child process. Its data directory and port outlive the process, so
/// a test can kill it and start it again where clients expect it. Killed when released.
final class RelayProcess {
    private let directory: TemporaryDirectory
    private let extraArguments: [String]
    private var process: ChildProcess?
    private var port = 0
    private var starts = 0
    private(set) var endpoint: RelayEndpoint?
    /// Standard output and error of every start, in order.
    private(set) var logFiles: [URL] = []

    /// How long a relay may take to print its ready line. The wait ends as soon as the ready line comes: generous for a machine running every suite at once.
    static let startTimeout = Duration.seconds(60)
    /// How often a restart is tried while the old socket's port is not yet free.
    private static let bindAttempts = 10

    let dataDirectory: URL

    /// Starts a relay on a free port with a new data directory (or `dataDirectory`, a place the
    /// test prepared, such as a small filesystem); `arguments` are added to `cipherchat
    /// server`'s.
    init(arguments: [String] = [], dataDirectory: URL? = nil) async throws {
        directory = try TemporaryDirectory(prefix: "relay")
        self.dataDirectory = dataDirectory ?? directory.url.appending(path: "data")
        extraArguments = arguments
        try FileManager.default.createDirectory(at: directory.url.appending(path: "logs"), withIntermediateDirectories: true)
        try await start()
    }

    deinit {
        process?.signal(SIGKILL)
    }

    /// The endpoint of the running relay (a harness failure when it is not running).
    func requireEndpoint() throws -> RelayEndpoint {
        guard let endpoint else { throw HarnessError("the relay is not running") }
        return endpoint
    }

    /// Starts the relay again, on the same data directory and port, after `kill` or `stop`.
    func restart() async throws {
        guard process == nil else { throw HarnessError("the relay is still running") }
        try await start()
    }

    /// Ends the relay at once, as a crash or power loss would, and waits until it is gone.
    func kill() async throws {
        try await end(with: SIGKILL)
    }

    /// Asks the relay to stop (SIGTERM) and returns its exit status; kills it if it lingers.
    @discardableResult
    func stop(timeout: Duration = .seconds(15)) async throws -> Int32 {
        guard let process else { throw HarnessError("the relay is not running") }
        process.signal(SIGTERM)
        if let status = await process.waitForExit(timeout: timeout) {
            self.process = nil
            endpoint = nil
            return status
        }
        try await end(with: SIGKILL)
        throw HarnessError("the relay did not stop within \(timeout) of SIGTERM and was killed")
    }

    /// What the running relay has printed on standard output so far (its ready lines).
    var standardOutput: String {
        process?.readStandardOutput() ?? ""
    }

    /// The running relay's process, to signal it directly.
    var processIdentifier: Int32? {
        process?.processIdentifier
    }

    /// Everything the relay printed, over all its starts.
    func readLogs() -> String {
        logFiles.map { (try? String(contentsOf: $0, encoding: .utf8)) ?? "" }.joined(separator: "\n")
    }

    private func end(with signal: Int32) async throws {
        guard let process else { throw HarnessError("the relay is not running") }
        process.signal(signal)
        guard await process.waitForExit(timeout: .seconds(10)) != nil else {
            throw HarnessError("the relay (pid \(process.processIdentifier)) did not end on signal \(signal)")
        }
        self.process = nil
        endpoint = nil
    }

    private func start() async throws {
        var failures: [String] = []
        for _ in 0..<Self.bindAttempts {
            let child = try launch()
            if let endpoint = try await waitForReadyLine(child) {
                process = child
                port = endpoint.port
                self.endpoint = endpoint
                return
            }
            let error = child.readStandardError()
            failures.append(error)
            // Only a port still held by the previous process is worth another try.
            guard port != 0, error.localizedCaseInsensitiveContains("address already in use") else { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("the relay did not start:\n\(failures.joined(separator: "\n---\n"))")
    }

    private func launch() throws -> ChildProcess {
        starts += 1
        let logs = directory.url.appending(path: "logs")
        let output = logs.appending(path: "relay-\(starts).out")
        let error = logs.appending(path: "relay-\(starts).err")
        logFiles += [output, error]
        return try ChildProcess(
            executable: CipherBinary.url(),
            // The monitoring listener on a free port too: tests run relays side by side.
            arguments: ["server", "--port", "\(port)", "--data", dataDirectory.path, "--metrics-port", "0"] + extraArguments,
            // A store deadline for a busy test machine, not for an outage: the outage tests
            // give their own with --store-timeout-seconds, which wins over the environment.
            environment: CipherBinary.environment(["CIPHERCHAT_STORE_TIMEOUT_SECONDS": "120"]), standardOutput: output, standardError: error
        )
    }

    /// The endpoint from the ready line; nil when the relay exited first; a failure when it
    /// neither printed it nor exited in time (it is then killed).
    private func waitForReadyLine(_ child: ChildProcess) async throws -> RelayEndpoint? {
        let deadline = Patience.deadline(Self.startTimeout)
        while ContinuousClock.now < deadline {
            let output = child.readStandardOutput()
            if let line = output.split(separator: "\n").first, output.contains("\n") {
                guard let endpoint = RelayEndpoint(readyLine: String(line)) else {
                    child.signal(SIGKILL)
                    throw HarnessError("unexpected ready line from the relay: \(line)")
                }
                return endpoint
            }
            if child.exitStatus != nil { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        child.signal(SIGKILL)
        throw HarnessError("the relay printed no ready line in time:\n\(child.readStandardError())")
    }
}
