import Foundation
import Synchronization

/// A running child process. Its standard output and error go to files rather than pipes, so a
/// chatty child never blocks on a full pipe, and what it wrote can be read (and searched) at
/// any time, also after it was killed.
final class ChildProcess: Sendable {
    let commandLine: String
    let standardOutput: URL
    let standardError: URL
    private let process: Process
    private let termination: ExitRecord

    /// How often `waitForExit` looks.
    private static let pollInterval = Duration.milliseconds(10)

    init(executable: URL, arguments: [String], environment: [String: String], standardOutput: URL, standardError: URL) throws {
        commandLine = ([executable.lastPathComponent] + arguments).joined(separator: " ")
        self.standardOutput = standardOutput
        self.standardError = standardError
        for file in [standardOutput, standardError] {
            guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
                throw HarnessError("cannot create \(file.path)")
            }
        }
        let output = try FileHandle(forWritingTo: standardOutput)
        let error = try FileHandle(forWritingTo: standardError)
        // The child holds its own descriptors; ours are not needed once it runs.
        defer {
            try? output.close()
            try? error.close()
        }
        let termination = ExitRecord()
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = error
        process.terminationHandler = { finished in
            // As a shell reports it: a signal's number plus 128.
            let status = finished.terminationReason == .uncaughtSignal ? 128 + finished.terminationStatus : finished.terminationStatus
            termination.record(status)
        }
        self.termination = termination
        try process.run()
    }

    /// The exit status once the child has ended (128 + N when signal N ended it).
    var exitStatus: Int32? {
        termination.status
    }

    var processIdentifier: Int32 {
        process.processIdentifier
    }

    /// Sends `number` unless the child has already ended (so a reused pid is never hit).
    func signal(_ number: Int32) {
        guard termination.status == nil else { return }
        kill(process.processIdentifier, number)
    }

    /// The exit status, or nil when the child is still running after `timeout`.
    func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = termination.status { return status }
            do { try await Task.sleep(for: Self.pollInterval) } catch { break }
        }
        return termination.status
    }

    func readStandardOutput() -> String {
        String(decoding: (try? Data(contentsOf: standardOutput)) ?? Data(), as: UTF8.self)
    }

    func readStandardError() -> String {
        String(decoding: (try? Data(contentsOf: standardError)) ?? Data(), as: UTF8.self)
    }

    /// Runs a command to completion, killing it (and failing) if it outlives `timeout`.
    static func run(
        _ executable: URL, _ arguments: [String], environment: [String: String], outputDirectory: URL, timeout: Duration
    ) async throws -> CommandResult {
        let name = UUID().uuidString
        let child = try ChildProcess(
            executable: executable, arguments: arguments, environment: environment,
            standardOutput: outputDirectory.appending(path: "\(name).out"), standardError: outputDirectory.appending(path: "\(name).err")
        )
        guard let status = await child.waitForExit(timeout: timeout) else {
            child.signal(SIGKILL)
            _ = await child.waitForExit(timeout: .seconds(5))
            throw HarnessError(
                "timed out after \(timeout): \(child.commandLine)\n--- stdout\n\(child.readStandardOutput())--- stderr\n\(child.readStandardError())"
            )
        }
        return CommandResult(
            commandLine: child.commandLine, status: status,
            standardOutput: child.readStandardOutput(), standardError: child.readStandardError()
        )
    }
}

/// The exit status, written by Foundation's termination handler and read by the tests.
private final class ExitRecord: Sendable {
    private let value = Mutex<Int32?>(nil)

    var status: Int32? {
        value.withLock { $0 }
    }

    func record(_ status: Int32) {
        value.withLock { $0 = status }
    }
}

/// What a finished command printed, and how it ended.
struct CommandResult: Sendable, CustomStringConvertible {
    let commandLine: String
    let status: Int32
    let standardOutput: String
    let standardError: String

    /// The non-empty lines of standard output.
    var outputLines: [String] {
        standardOutput.split(separator: "\n").map(String.init)
    }

    @discardableResult
    func requireSuccess() throws -> CommandResult {
        guard status == 0 else { throw HarnessError.commandFailed(self) }
        return self
    }

    var description: String {
        "$ \(commandLine)\n--- exit \(status)\n--- stdout\n\(standardOutput)--- stderr\n\(standardError)"
    }
}

extension ChildProcess {
    /// Suspends the child (SIGSTOP) as soon as `condition` holds, checked every 2 ms on a
    /// thread of its own: on a busy machine the test's tasks can wait longer to run than a
    /// transfer takes to finish, and a thread still catches it mid-way. `signal(SIGCONT)` lets
    /// it go on. False when the child exited, or `timeout` passed, first.
    func suspend(when condition: @escaping @Sendable () -> Bool, timeout: Duration = .seconds(120)) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let watcher = Thread {
                let deadline = ContinuousClock.now + timeout
                while ContinuousClock.now < deadline, self.exitStatus == nil {
                    if condition() {
                        self.signal(SIGSTOP)
                        continuation.resume(returning: self.exitStatus == nil)
                        return
                    }
                    usleep(2000)
                }
                continuation.resume(returning: false)
            }
            watcher.start()
        }
    }
}
