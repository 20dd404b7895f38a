import CipherTesting
import Foundation

/// One person at the command line: a temporary home directory, the passphrase that unlocks it,
/// and `cipherchat` run the way they would run it. Removed when released.
final class UserHome: Sendable {
    let username: String
    let passphrase: String
    private let directory: TemporaryDirectory

    /// scrypt's cost for test identities: the lowest `cipherchat` accepts.
    static let scryptLogN = "14"
    /// Long enough for `init` (RSA key generation) on a loaded machine.
    static let commandTimeout = Duration.seconds(90)

    init(_ username: String, passphrase: String? = nil) throws {
        self.username = username
        self.passphrase = passphrase ?? "passphrase of \(username)"
        directory = try TemporaryDirectory(prefix: "home-\(username)")
        try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
    }

    /// The directory given as `--home`; `init` creates it.
    var home: URL {
        directory.url.appending(path: "home")
    }

    private var outputDirectory: URL {
        directory.url.appending(path: "output")
    }

    /// Runs `cipherchat SUBCOMMAND --home HOME ARGUMENTS...` with the passphrase in the
    /// environment (`passphrase` overrides this user's own). A SUBCOMMAND of several words
    /// (`room create`) names a nested command.
    func run(_ subcommand: String, _ arguments: [String] = [], passphrase: String? = nil) async throws -> CommandResult {
        try await run(subcommand.split(separator: " ").map(String.init), arguments, passphrase: passphrase)
    }

    /// Runs `cipherchat COMMAND... --home HOME ARGUMENTS...`, for subcommands of a group
    /// (`file send`).
    func run(_ command: [String], _ arguments: [String] = [], passphrase: String? = nil) async throws -> CommandResult {
        try await ChildProcess.run(
            CipherBinary.url(), command + ["--home", home.path] + arguments,
            environment: CipherBinary.environment([
                "CIPHERCHAT_PASSPHRASE": passphrase ?? self.passphrase,
                "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
            ]),
            outputDirectory: outputDirectory, timeout: Self.commandTimeout
        )
    }

    /// Starts `cipherchat SUBCOMMAND --home HOME ARGUMENTS...` and returns at once, so a test
    /// can watch the process (its memory) or kill it mid-way.
    func launch(_ command: [String], _ arguments: [String] = []) throws -> ChildProcess {
        let name = UUID().uuidString
        return try ChildProcess(
            executable: CipherBinary.url(), arguments: command + ["--home", home.path] + arguments,
            environment: CipherBinary.environment([
                "CIPHERCHAT_PASSPHRASE": passphrase,
                "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
            ]),
            standardOutput: outputDirectory.appending(path: "\(name).out"), standardError: outputDirectory.appending(path: "\(name).err")
        )
    }

    /// `cipherchat chat [--with OTHER]` in a real terminal (tmux), unlocked by this user's
    /// passphrase.
    func openChat(with other: String? = nil, columns: Int = 100) throws -> TmuxSession {
        let command = "\(try CipherBinary.url().path) chat --home \(home.path)" + (other.map { " --with \($0)" } ?? "")
        return try TmuxSession(command, columns: columns, rows: 20, environment: [
            "CIPHERCHAT_PASSPHRASE": passphrase, "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
        ])
    }

    /// `cipherchat COMMAND... --home HOME` in a real terminal (tmux), unlocked by this user's
    /// passphrase; the pane then prints `EXIT=STATUS` and stays, so its screen can be read.
    /// In `directory`, when given, as a user who `cd`s there first.
    func openShell(_ command: [String], in directory: URL? = nil, columns: Int = 120) throws -> TmuxSession {
        let quoted = ([try CipherBinary.url().path] + command + ["--home", home.path]).map { "'\($0)'" }.joined(separator: " ")
        let change = directory.map { "cd '\($0.path)' && " } ?? ""
        return try TmuxSession("\(change)\(quoted); echo EXIT=$?; sleep 600", columns: columns, rows: 20, environment: [
            "CIPHERCHAT_PASSPHRASE": passphrase, "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
        ])
    }

    /// Starts `cipherchat daemon` for this user and waits for its ready line.
    func startDaemon() async throws -> ChildProcess {
        let daemon = try launch(["daemon"])
        let deadline = Patience.deadline(.seconds(120))
        while !daemon.readStandardOutput().contains("local API on"), ContinuousClock.now < deadline {
            if let status = daemon.exitStatus { throw HarnessError("the daemon exited \(status): \(daemon.readStandardError())") }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard daemon.readStandardOutput().contains("local API on") else {
            daemon.signal(SIGKILL)
            throw HarnessError("the daemon printed no ready line: \(daemon.readStandardError())")
        }
        return daemon
    }

    /// A scratch directory of this user's, for files they send or receive.
    var files: URL {
        directory.url.appending(path: "files")
    }

    /// `cipherchat init` against `relay`, pinning its certificate; the result, success or not.
    /// Two users, each initialised on `relay` (the first first): most tests start so.
    static func pair(_ first: String, _ second: String, on relay: RelayProcess) async throws -> (UserHome, UserHome) {
        let endpoint = try relay.requireEndpoint()
        let users = (try UserHome(first), try UserHome(second))
        try await users.0.initialize(on: endpoint).requireSuccess()
        try await users.1.initialize(on: endpoint).requireSuccess()
        return users
    }

    func initialize(on relay: RelayEndpoint) async throws -> CommandResult {
        try await run("init", ["--server", relay.address, "--user", username, "--server-fingerprint", relay.fingerprint])
    }

    /// Sends `text` to `recipient`, failing unless the relay acknowledged it.
    func send(_ text: String, to recipient: String) async throws {
        try await run("send", [recipient, text]).requireSuccess()
    }

    /// `cipherchat recv --json`: the messages that had arrived, in the order printed.
    func receive() async throws -> [ReceivedMessage] {
        let result = try await run("recv", ["--json"]).requireSuccess()
        return try result.outputLines.map { try ReceivedMessage(jsonLine: $0) }
    }
}

/// One line of `cipherchat recv --json`.
struct ReceivedMessage: Decodable, Sendable, Equatable {
    let id: String
    let from: String
    let to: String
    let sentAt: String
    let receivedAt: String
    let kind: String
    let text: String
    let verified: Bool
    /// For a file: its id for `file get`, the sender's name for it, its size.
    var fileID: String? = nil
    var name: String? = nil
    var size: UInt64? = nil

    private enum CodingKeys: String, CodingKey {
        case id, from, to, kind, text, verified, name, size
        case sentAt = "sent_at"
        case receivedAt = "received_at"
        case fileID = "file_id"
    }

    init(jsonLine: String) throws {
        do {
            self = try JSONDecoder().decode(ReceivedMessage.self, from: Data(jsonLine.utf8))
        } catch {
            throw HarnessError("recv --json printed a line that is not a message (\(error)): \(jsonLine)")
        }
    }
}
