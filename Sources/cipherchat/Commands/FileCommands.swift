import ArgumentParser
import CipherClient
import Foundation

struct FileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file",
        abstract: "Send and fetch files, end-to-end encrypted; the relay stores only ciphertext.",
        subcommands: [FileSendCommand.self, FileListCommand.self, FileGetCommand.self]
    )

    /// How long a transfer through the home's owner may take: the owner itself rides out lost
    /// connections, so this only ends a wait on an owner that stopped answering.
    static let ownerTimeout: Double = 86_400
}

/// A received file as the commands print it, from the client library or from the owner's
/// local API (which never hands out the file's key).
struct FileSummary {
    let id: String
    let from: String
    let room: String?
    let name: String
    let size: UInt64
    let sha256: String
    let savedTo: String?

    init(_ file: ReceivedFile) {
        (id, from, room, name, size, sha256, savedTo) = (file.id, file.from, file.room, file.name, file.size, file.sha256, file.savedTo)
    }

    /// From the local API's object (docs/API.md); a malformed one is the owner's fault.
    init(json value: Any) throws {
        guard let object = value as? [String: Any], let id = object["id"] as? String, let from = object["from"] as? String,
              let name = object["name"] as? String, let size = (object["size"] as? NSNumber)?.uint64Value,
              let sha256 = object["sha256"] as? String else {
            throw CommandFailure.failure("the home's owner answered with a malformed file")
        }
        (self.id, self.from, self.name, self.size, self.sha256) = (id, from, name, size, sha256)
        room = object["room"] as? String
        savedTo = object["saved_to"] as? String
    }
}

struct FileSendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Upload a file for TO and send them its key; exit 0 once the relay has their message.",
        discussion: """
            The file is encrypted as it is read, in \(ChatClient.fileChunkSize / 1024) KiB chunks, and uploaded to the \
            relay. If the transfer is interrupted, running the same command again resumes it from \
            the last chunk the relay stored (unless the file changed meanwhile: then it starts \
            over). On a terminal, standard error shows its progress. Exit 6 when TO's identity \
            changed or the trust policy refuses an unverified contact; exit 9 when the relay \
            cannot store now (its disk is full, its database is down): run it again later.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The recipient: a username, or a room (#name) you are a member of.")
    var to: String

    @Argument(help: "The file to send.")
    var path: String

    func run() async throws {
        try await runReportingFailures {
            // The owner reads the file from where this command was run.
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            let line: String
            switch try options.access(command: "cipherchat file send") {
            case .owner(let connection):
                let sent = try await HomeAccess.owner(connection).call(
                    "file.send", ["recipient": to, "path": absolute], timeout: FileCommand.ownerTimeout
                )
                let file = try FileSummary(json: sent)
                line = "sent \(file.name) (\(file.size) bytes) to \(to) id \(file.id)"
            case .own(let client):
                try await client.startWithDeadline(receiving: false)
                let sent = try await ProgressDisplay.showing(name: (absolute as NSString).lastPathComponent) { progress in
                    to.hasPrefix("#")
                        ? try await client.sendFile(at: absolute, toRoom: to, progress: progress)
                        : try await client.sendFile(at: absolute, to: to, progress: progress)
                }
                line = "sent \(sent.name) (\(sent.size) bytes) to \(to) id \(sent.id)"
                await client.stop()
            }
            printSafely(line)
        }
    }
}

struct FileListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the files received, one a line, its id first.",
        discussion: """
            Files arrive as messages: 'cipherchat recv' or the chat takes delivery of new ones. \
            With --json, one object a line: id, from, room (for a file sent to a room), saved_to (once fetched), name, \
            size, sha256.
            """
    )

    @OptionGroup var options: ClientOptions

    @Flag(help: "One JSON object a line.")
    var json = false

    func run() async throws {
        try await runReportingFailures {
            switch try options.access(command: "cipherchat file list") {
            case .owner(let connection):
                let files = try await HomeAccess.owner(connection).call("file.list", timeout: 60)
                for object in files as? [[String: Any]] ?? [] {
                    if json { print(JSONLine.encode(object)) } else { printSafely(Self.line(try FileSummary(json: object))) }
                }
            case .own(let client):
                for file in try await client.receivedFiles() {
                    if json { print(Self.json(file)) } else { printSafely(Self.line(FileSummary(file))) }
                }
                await client.close()
            }
        }
    }

    static func line(_ file: FileSummary) -> String {
        let origin = file.room.map { "\(file.from) in \($0)" } ?? file.from
        let saved = file.savedTo.map { " saved to \($0)" } ?? ""
        return "\(file.id) \(file.name) \(file.size) bytes from \(origin) sha256=\(file.sha256)\(saved)"
    }

    static func json(_ file: ReceivedFile) -> String {
        JSONLine.encode(file.jsonObject)
    }
}

struct FileGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Download a received file, decrypt it to disk and check its SHA-256.",
        discussion: """
            ID is the id 'cipherchat file list' shows, or its first characters (at least 4). The \
            file is written beside --out as it arrives and gets its name only once its hash \
            matched; an interrupted download resumes when run again. An existing file is never \
            replaced, and a link where the partial file goes is refused, not followed. On a \
            terminal, standard error shows its progress. Exit 8 when the file fails its check \
            (altered or truncated): nothing is kept.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The file's id.")
    var id: String

    @Option(help: "Where to write the file (default: the sender's name for it, without directories, controls or leading dots, in the current directory).")
    var out: String?

    func run() async throws {
        try await runReportingFailures {
            // Paths are the caller's: the owner runs elsewhere.
            let output = out.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let file: FileSummary
            switch try options.access(command: "cipherchat file get") {
            case .owner(let connection):
                var params: [String: Any] = ["id": id, "dir": FileManager.default.currentDirectoryPath]
                params["out"] = output
                let got = try await HomeAccess.owner(connection).call("file.get", params, timeout: FileCommand.ownerTimeout)
                file = try FileSummary(json: got)
            case .own(let client):
                try await client.startWithDeadline(receiving: false)
                file = FileSummary(try await ProgressDisplay.showing(name: try await client.receivedFile(id).name) { progress in
                    try await client.downloadFile(id: id, to: output, progress: progress)
                })
                await client.stop()
            }
            printSafely("saved \(file.name) (\(file.size) bytes) to \(file.savedTo ?? "?") sha256=\(file.sha256)")
        }
    }
}
