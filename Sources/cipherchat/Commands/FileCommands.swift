import ArgumentParser
import CipherClient
import Foundation

struct FileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "file",
        abstract: "Send and fetch files, end-to-end encrypted; the relay stores only ciphertext.",
        subcommands: [FileSendCommand.self, FileListCommand.self, FileGetCommand.self]
    )
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
            changed or the trust policy refuses an unverified contact.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The recipient: a username, or a room (#name) you are a member of.")
    var to: String

    @Argument(help: "The file to send.")
    var path: String

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient(command: "cipherchat file send")
            try await client.startWithDeadline(receiving: false)
            let sent = try await ProgressDisplay.showing(name: (path as NSString).lastPathComponent) { progress in
                to.hasPrefix("#")
                    ? try await client.sendFile(at: path, toRoom: to, progress: progress)
                    : try await client.sendFile(at: path, to: to, progress: progress)
            }
            printSafely("sent \(sent.name) (\(sent.size) bytes) to \(to) id \(sent.id)")
            await client.stop()
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
            let client = try options.openClient(command: "cipherchat file list")
            for file in try await client.receivedFiles() {
                if json { print(Self.json(file)) } else { printSafely(Self.line(file)) }
            }
        }
    }

    static func line(_ file: ReceivedFile) -> String {
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
            let client = try options.openClient(command: "cipherchat file get")
            try await client.startWithDeadline(receiving: false)
            let file = try await ProgressDisplay.showing(name: try await client.receivedFile(id).name) { progress in
                try await client.downloadFile(id: id, to: out, progress: progress)
            }
            printSafely("saved \(file.name) (\(file.size) bytes) to \(file.savedTo ?? "?") sha256=\(file.sha256)")
            await client.stop()
        }
    }
}
