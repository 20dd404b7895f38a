#if os(Linux)
import Foundation
import Glibc
import Synchronization

/// A throwaway PostgreSQL cluster for tests: Debian's server binaries, a new data directory
/// under the temporary directory, listening on 127.0.0.1 at a free port with its Unix socket in
/// that directory, trust authentication for the superuser `cipherchat`. PostgreSQL refuses to
/// run as root, so as root the server runs as the `postgres` user. `stop()` ends it and removes
/// the directory.
///
/// Each test takes a database of its own (`createDatabase()`), so suites sharing a cluster, and
/// runs in parallel, never see each other's rows.
public final class PostgresCluster: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Where Debian's postgresql package puts the server (PostgreSQL 15 on Debian 12).
    public static let binaries = URL(fileURLWithPath: RequiredTool.postgres.path).deletingLastPathComponent()
    public static let superuser = "cipherchat"
    private static let startAttempts = 5

    public let port: Int
    public let directory: URL
    private var dataDirectory: URL { directory.appending(path: "data") }

    /// One cluster for the whole test process, started on first use and stopped at exit.
    public static func shared() throws -> PostgresCluster {
        try sharedCluster.get()
    }

    private static let sharedCluster: Result<PostgresCluster, any Error> = {
        let result = Result { try PostgresCluster() }
        if case .success(let cluster) = result {
            clusterToStopAtExit.withLock { $0 = cluster }
            atexit { PostgresCluster.clusterToStopAtExit.withLock { $0 }?.stop() }
        }
        return result
    }()

    private static let clusterToStopAtExit = Mutex<PostgresCluster?>(nil)

    /// Initialises and starts a new cluster.
    public init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binaries.appending(path: "initdb").path) else {
            throw Failure(description: "PostgreSQL is not installed (apt-get install postgresql)")
        }
        var template = Array((FileManager.default.temporaryDirectory.path + "/cipherchat-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "cannot make a temporary directory") }
        directory = URL(fileURLWithPath: String(cString: made))
        do {
            try Self.handToServerUser(directory)
            try Self.runServerTool("initdb", [
                "-D", directory.appending(path: "data").path, "-U", Self.superuser, "--auth=trust", "--no-sync",
                "--encoding=UTF8", "--locale=C",
            ])
            port = try Self.start(dataDirectory: directory.appending(path: "data"), socketDirectory: directory)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// A URL for `cipherchat server --postgres` and the store.
    public func url(database: String) -> String {
        "postgres://\(Self.superuser)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates a new, empty database and returns its URL.
    public func createDatabase() throws -> String {
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try Self.run(Self.binaries.appending(path: "createdb"), ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.superuser, name])
        return url(database: name)
    }

    /// Runs SQL with psql on `database` and returns what it printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String) throws -> String {
        try Self.run(Self.binaries.appending(path: "psql"), [
            "-h", "127.0.0.1", "-p", "\(port)", "-U", Self.superuser, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql,
        ])
    }

    /// Ends the server as a crash would (`pg_ctl stop -m immediate`: no checkpoint, whatever
    /// was not yet written to the log is lost) and starts it again on the same port.
    public func crashAndRestart() throws {
        try Self.runServerTool("pg_ctl", ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"])
        let log = directory.appending(path: "server-\(port)-restarted.log")
        let options = "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=200"
        try Self.runServerTool("pg_ctl", ["-D", dataDirectory.path, "-l", log.path, "-w", "-t", "30", "-o", options, "start"])
    }

    /// Stops the server as an operator would for maintenance (`pg_ctl stop -m fast`: clients
    /// are disconnected, the data is kept); `startAgain()` brings it back on the same port.
    public func stopServer() throws {
        try Self.runServerTool("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"])
    }

    /// Starts the server again after `stopServer()`, on the same port.
    public func startAgain() throws {
        let log = directory.appending(path: "server-\(port)-started-again.log")
        let options = "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=200"
        try Self.runServerTool("pg_ctl", ["-D", dataDirectory.path, "-l", log.path, "-w", "-t", "30", "-o", options, "start"])
    }

    /// Stops the server at once and removes its directory.
    public func stop() {
        _ = try? Self.runServerTool("pg_ctl", ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts the server on a random free-looking port, trying another when it is taken.
    private static func start(dataDirectory: URL, socketDirectory: URL) throws -> Int {
        var failures: [String] = []
        for _ in 0..<startAttempts {
            let port = Int.random(in: 20_000..<60_000)
            let log = socketDirectory.appending(path: "server-\(port).log")
            let options = "-p \(port) -k \(socketDirectory.path) -c listen_addresses=127.0.0.1 -c max_connections=200"
            do {
                try runServerTool("pg_ctl", ["-D", dataDirectory.path, "-l", log.path, "-w", "-t", "30", "-o", options, "start"])
                return port
            } catch {
                failures.append("\(error)\n" + ((try? String(contentsOf: log, encoding: .utf8)) ?? ""))
            }
        }
        throw Failure(description: "PostgreSQL did not start:\n" + failures.joined(separator: "\n---\n"))
    }

    private static var isRoot: Bool { geteuid() == 0 }

    private static func handToServerUser(_ directory: URL) throws {
        guard isRoot else { return }
        try run(URL(fileURLWithPath: "/bin/chown"), ["postgres:postgres", directory.path])
    }

    /// Runs a server program, as the `postgres` user when this process is root.
    @discardableResult
    private static func runServerTool(_ name: String, _ arguments: [String]) throws -> String {
        let tool = binaries.appending(path: name).path
        if isRoot {
            return try run(URL(fileURLWithPath: "/usr/sbin/runuser"), ["-u", "postgres", "--", tool] + arguments)
        }
        return try run(URL(fileURLWithPath: tool), arguments)
    }

    /// Runs a program to completion; its output, or a failure with what it printed.
    ///
    /// posix_spawn and waitpid rather than Foundation's `Process`: on Linux, `Process` learns
    /// of the child's exit through a descriptor the child inherits, and the server that
    /// `pg_ctl start` leaves running inherits it too, so `waitUntilExit` would never return.
    @discardableResult
    private static func run(_ executable: URL, _ arguments: [String]) throws -> String {
        // Output to a file, not a pipe, for the same reason.
        let outputFile = FileManager.default.temporaryDirectory.appending(path: "cipherchat-pg-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process may reach the server `pg_ctl start` leaves running
        // (see `OpenDescriptors`).
        for descriptor in OpenDescriptors.list() where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start \(executable.path): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let printed = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        // Exited normally (no signal) with status 0.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure(description: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")) failed:\n\(printed)")
        }
        return printed
    }
}
#endif
