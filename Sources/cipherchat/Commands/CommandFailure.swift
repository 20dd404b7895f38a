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

    var description: String {
        switch self {
        case .usage(let text), .mismatch(let text), .failure(let text): text
        case .client(let error): "\(error)"
        case .seal(let error): "cannot open the local store: \(error)"
        }
    }

    var exitCode: Int32 {
        switch self {
        case .usage: 64
        case .failure: 1
        case .seal(let error): error == .wrongPassphrase ? 3 : 4
        case .mismatch: 5
        case .client(let error):
            switch error {
            case .identityChanged, .contactNotVerified: 6
            case .serverCertificateChanged: 7
            case .notInitialized, .alreadyInitialized, .invalidUsername, .invalidServerAddress, .messageTooLong: 64
            case .storeCorrupted: 4
            default: 1
            }
        }
    }
}

/// Runs a command body, turning failures into a message on standard error and an exit code.
func runReportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CommandFailure {
        printError(failure.description)
        throw ExitCode(failure.exitCode)
    } catch let error as ClientError {
        let failure = CommandFailure.client(error)
        printError(failure.description)
        throw ExitCode(failure.exitCode)
    } catch let error as SealError {
        let failure = CommandFailure.seal(error)
        printError(failure.description)
        throw ExitCode(failure.exitCode)
    } catch let error as RoomError {
        printError("\(error)")
        throw ExitCode(1)
    } catch let error as FileTransferError {
        printError(error.description)
        if case .refused = error { throw ExitCode(8) }
        throw ExitCode(1)
    } catch let error as RelayError {
        printError("the relay refused: \(error)")
        throw ExitCode(1)
    } catch let error as LocalAPIError {
        printError(error.message)
        throw ExitCode(error.exitCode)
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: \(error)")
        throw ExitCode(1)
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
