import ArgumentParser
import CipherClient
import Foundation
import Logging

/// Options every client command shares: where the identity lives and how to unlock it.
struct ClientOptions: ParsableArguments {
    @Option(help: "The client's home directory (default: $CIPHERCHAT_HOME, else ~/.cipherchat).")
    var home: String?

    @Option(help: "Read the passphrase from this file (default: $CIPHERCHAT_PASSPHRASE, else a prompt).")
    var passphraseFile: String?

    @Option(help: ArgumentHelp(
        "Diagnostics on standard error from this level up (default: warning; in the full-screen chat, none unless given).",
        valueName: "trace|debug|info|notice|warning|error|critical"
    ))
    var logLevel: Logger.Level?

    @Option(help: "When another process owns the home and does not answer on its socket yet, wait this many seconds for it.")
    var ownerTimeout: Double = 10

    /// The client library's logger at the chosen level, or `fallback` when none was given.
    func logger(fallback: Logger.Level = .warning) -> Logger {
        var logger = Logger(label: "cipherchat.client")
        logger.logLevel = logLevel ?? fallback
        return logger
    }

    var resolvedHome: String {
        if let home { return home }
        if let environment = ProcessInfo.processInfo.environment["CIPHERCHAT_HOME"], !environment.isEmpty { return environment }
        return (NSHomeDirectory() as NSString).appendingPathComponent(".cipherchat")
    }

    /// The passphrase from the file, the environment, or a no-echo prompt, in that order. With
    /// `confirm` (a new store), an empty one is warned about.
    func passphrase(confirm: Bool = false) throws -> String {
        let passphrase = try readPassphrase(confirm: confirm)
        if confirm, passphrase.isEmpty {
            printError("warning: an empty passphrase: anyone who copies the home can read it")
        }
        return passphrase
    }

    private func readPassphrase(confirm: Bool) throws -> String {
        if let passphraseFile {
            guard let text = try? String(contentsOfFile: passphraseFile, encoding: .utf8) else {
                throw CommandFailure.usage("cannot read the passphrase file \(passphraseFile)")
            }
            // As ssh does for a private key, though this only warns: the file is the secret.
            var status = stat()
            if stat(passphraseFile, &status) == 0, status.st_mode & 0o077 != 0 {
                let mode = String(status.st_mode & 0o777, radix: 8)
                printError("warning: other users can read the passphrase file \(passphraseFile) (mode \(mode)); chmod 600 it")
            }
            return text.trimmingCharacters(in: .newlines)
        }
        if let environment = ProcessInfo.processInfo.environment["CIPHERCHAT_PASSPHRASE"] { return environment }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CommandFailure.usage("no passphrase: set CIPHERCHAT_PASSPHRASE, pass --passphrase-file, or run on a terminal")
        }
        let first = try SecretPrompt.readSecret(prompt: "Passphrase: ")
        if confirm {
            guard try SecretPrompt.readSecret(prompt: "Again: ") == first else { throw CommandFailure.usage("the passphrases differ") }
        }
        return first
    }

    /// Opens the home as its owner (HomeOwnership), waiting up to `--owner-timeout` seconds
    /// (or `ownerWait`) for another owner to let go.
    func openClient(logLevel fallback: Logger.Level = .warning, command: String, ownerWait: Double? = nil) throws -> ChatClient {
        do {
            return try ChatClient.open(
                home: resolvedHome, passphrase: passphrase(), logger: logger(fallback: fallback),
                command: command, ownerWait: ownerWait ?? ownerTimeout
            )
        } catch let error as ClientError {
            throw CommandFailure.client(error)
        }
    }
}

/// Reads a secret from the terminal without echoing it.
enum SecretPrompt {
    static func readSecret(prompt: String) throws -> String {
        FileHandle.standardError.write(Data(prompt.utf8))
        var original = termios()
        tcgetattr(STDIN_FILENO, &original)
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        guard let line = readLine(strippingNewline: true) else { throw CommandFailure.usage("no passphrase entered") }
        return line
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
