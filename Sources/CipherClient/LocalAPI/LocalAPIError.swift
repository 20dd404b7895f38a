import CipherCore

/// A JSON-RPC error of the local API: the standard codes for malformed requests, and -32000
/// with a stable `kind` and the exit code the CLI gives the same failure (docs/API.md, "Errors").
/// The message is the one the CLI prints: names and reasons, never message text or keys.
public struct LocalAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: Int
    public let kind: String
    public let message: String
    public let exitCode: Int32

    public var description: String { message }

    public init(code: Int = -32000, kind: String, message: String, exitCode: Int32) {
        self.code = code
        self.kind = kind
        self.message = message
        self.exitCode = exitCode
    }

    static func parse(_ message: String) -> LocalAPIError {
        LocalAPIError(code: -32700, kind: "parse_error", message: message, exitCode: 64)
    }

    static func invalidRequest(_ message: String) -> LocalAPIError {
        LocalAPIError(code: -32600, kind: "invalid_request", message: message, exitCode: 64)
    }

    static func unknownMethod(_ method: String) -> LocalAPIError {
        LocalAPIError(code: -32601, kind: "unknown_method", message: "no method '\(method)'", exitCode: 64)
    }

    static func invalidParams(_ message: String) -> LocalAPIError {
        LocalAPIError(code: -32602, kind: "invalid_params", message: message, exitCode: 64)
    }

    /// The API's form of a failure of the client library; one of kind `internal` for any other
    /// error, whose description may carry details the API should not hand out.
    init(_ error: any Error) {
        self = LocalAPIError(known: error)
            ?? LocalAPIError(kind: "internal", message: "the owner could not carry out the request", exitCode: 1)
    }

    /// The form of a failure of the client library, shared by the API and the CLI: the one table
    /// of kinds, messages and exit codes (README, "Exit codes"). Nil for any other error.
    public init?(known error: any Error) {
        switch error {
        case let error as LocalAPIError:
            self = error
        case let error as ClientError:
            let (kind, exitCode): (String, Int32) = switch error {
            case .identityChanged: ("identity_changed", 6)
            case .contactNotVerified: ("contact_not_verified", 6)
            case .serverCertificateChanged: ("server_certificate_changed", 7)
            case .unknownContact: ("unknown_contact", 1)
            case .invalidUsername, .invalidServerAddress, .messageTooLong, .notInitialized, .alreadyInitialized: ("usage", 64)
            case .storeCorrupted: ("store_corrupted", 4)
            case .relay(let relay) where relay.code == .storeUnavailable: ("store_unavailable", 9)
            case .relay: ("relay_refused", 1)
            case .notConfirmed: ("not_confirmed", 9)
            case .homeOwned, .homeUnusable: ("home_unavailable", 1)
            }
            self.init(kind: kind, message: error.description, exitCode: exitCode)
        case let error as RelayUnreachable:
            self.init(kind: "relay_unreachable", message: error.description, exitCode: 1)
        case let error as RelayError where error.code == .storeUnavailable:
            self.init(kind: "store_unavailable", message: "the relay cannot store anything now (store_unavailable); try again later", exitCode: 9)
        case let error as RelayError:
            self.init(kind: "relay_refused", message: "the relay refused: \(error)", exitCode: 1)
        case let error as RoomError:
            self.init(kind: "room", message: "\(error)", exitCode: 1)
        case let error as FileTransferError:
            if case .refused = error {
                self.init(kind: "file_refused", message: error.description, exitCode: 8)
            } else if case .relayUnavailable = error {
                self.init(kind: "store_unavailable", message: error.description, exitCode: 9)
            } else {
                self.init(kind: "file", message: error.description, exitCode: 1)
            }
        default:
            return nil
        }
    }

    var jsonObject: [String: Any] {
        ["code": code, "message": message, "data": ["kind": kind, "exit_code": Int(exitCode)]]
    }
}
