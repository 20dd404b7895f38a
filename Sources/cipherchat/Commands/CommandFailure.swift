import ArgumentParser
import CipherClient
import CipherCore

/// A failed command: its message for the terminal and its exit code (README, "Exit codes").
enum CommandFailure: Error, CustomStringConvertible {
    case usage(String)
    case client(ClientError)
    case seal(SealError)
    case mismatch(String)
    case failure(String)
    /// The relay did not confirm in time or cannot store now: retry later.
    case unavailable(String)

    var description: String {
        switch self {
        case .usage(let text), .mismatch(let text), .failure(let text), .unavailable(let text): text
        case .client(let error): "\(error)"
        case .seal(let error): "cannot open the local store: \(error)"
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .failure: 1
        case .unavailable: 9
        case .seal(let error): error == .wrongPassphrase ? 3 : 4
        case .mismatch: 5
        case .client(let error): LocalAPIError(known: error)?.exitCode ?? 1
        }
    }
}

extension CommandFailure {
    /// How a send that did not finish is reported when the cause is passing (no answer in time,
    /// a relay that cannot store now, one that cannot be reached): what happened, and whether
    /// the message is kept. Nil for a definite failure, reported as it is.
    static func unconfirmed(_ error: any Error, keptInOutbox kept: Bool) -> CommandFailure? {
        if let timeout = error as? CommandTimeout {
            let outcome = kept ? ClientError.notConfirmed(count: 1).description : "nothing was sent; try again later"
            return .unavailable("\(timeout.description); \(outcome)")
        }
        if error is CommandFailure { return nil }
        return UnconfirmedSend.description(of: error, keptInOutbox: kept).map(CommandFailure.unavailable)
    }
}

/// Runs a command body, turning failures into a message on standard error and an exit code.
/// The client library's failures are worded and numbered by the one table the local API uses
/// (`LocalAPIError(known:)`), so a command gives the same reason and exit code whether it ran
/// in this process or through the home's owner.
func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        printError(failure.description)
        throw ExitCode(failure.exitCode)
    } catch let error as SealError {
        let failure = CommandFailure.seal(error)
        printError(failure.description)
        throw ExitCode(failure.exitCode)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        guard let known = LocalAPIError(known: error) else {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        printError(known.message)
        throw ExitCode(known.exitCode)
    }
}

/// A failure or warning on standard error, made terminal-safe: warnings name peers, rooms and
/// files (`printSafely`).
func printError(_ text: String) {
    var standardError = StandardError()
    print(TerminalText.block("cipherchat: \(text)"), to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}

import Foundation
