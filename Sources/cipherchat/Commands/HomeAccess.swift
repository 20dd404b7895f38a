import CipherClient
import Foundation
import Logging

/// How a command reaches its home: through the owner's local API when another process owns
/// it (a daemon, an open chat), or by owning the home itself for the command's duration. Only
/// an owner opens the store (HomeOwnership), so two processes never encrypt from one state.
enum HomeAccess: Sendable {
    case owner(LocalAPIConnection)
    case own(ChatClient)

    /// Calls an API method on the owner, or carries it out in this process when it owns the home.
    func call(_ method: String, _ params: [String: Any] = [:], timeout: Double) async throws -> Any {
        switch self {
        case .owner(let connection):
            do {
                return try await connection.call(method, params, timeout: timeout)
            } catch let error as LocalAPIError where error.kind == "owner_unresponsive" {
                let holder = HomeOwnership.currentHolder(home: connection.home)?.description ?? "another process"
                throw LocalAPIError(kind: error.kind, message: "\(error.message): the home is in use by \(holder)", exitCode: error.exitCode)
            }
        case .own(let client):
            return try await LocalAPIMethods(client: client).call(method, params)
        }
    }

    /// Lets go of the home when this process owned it.
    func finish() async {
        if case .own(let client) = self { await client.close() }
    }
}

extension ClientOptions {
    /// Serves the local API of `client`, which this process owns, on the home's socket: the
    /// daemon, the chat and `recv` do, for as long as they run (docs/API.md).
    func serveLocalAPI(
        _ client: ChatClient, events: LocalAPIEvents, logLevel: Logger.Level = .warning,
        onSent: @escaping @Sendable (ChatRecord) -> Void = { _ in }
    ) async throws -> LocalAPIServer {
        try await LocalAPIServer.start(
            methods: LocalAPIMethods(client: client, events: events, onSent: onSent), events: events,
            home: resolvedHome, logger: logger(fallback: logLevel)
        )
    }

    /// Reaches the home's owner, or becomes it. While another process holds the home without
    /// serving its socket yet (it is starting, or is a plain command finishing), this waits up to
    /// `--owner-timeout` seconds, then fails naming that process; it never opens the store.
    func access(command: String, logLevel fallback: Logger.Level = .warning) throws -> HomeAccess {
        let deadline = Date().addingTimeInterval(ownerTimeout)
        while true {
            if let connection = LocalAPIConnection.connect(home: resolvedHome) { return .owner(connection) }
            if HomeOwnership.currentHolder(home: resolvedHome) == nil {
                do {
                    return .own(try openClient(logLevel: fallback, command: command, ownerWait: 0))
                } catch CommandFailure.client(.homeOwned) where Date() < deadline {
                    // Another process took the home in between: look for its socket again.
                }
            } else if Date() >= deadline {
                let holder = HomeOwnership.currentHolder(home: resolvedHome)?.description ?? "another process"
                throw CommandFailure.client(.homeOwned(resolvedHome, holder: holder))
            }
            usleep(100_000)
        }
    }
}
