import _ConnectionPoolModule
import CipherRelay
import PostgresNIO

/// Every store operation has a deadline. While PostgreSQL is down, postgres-nio keeps each query
/// waiting for a pooled connection, without bound, as it retries connecting; the relay instead
/// answers within `operationTimeout` that the store is unavailable, and the client keeps its
/// message for later. An operation abandoned at its deadline may still finish once the database
/// is back: an envelope stored so was never acknowledged to its sender, who sends it again under
/// the same client message id, and the store keeps one.
extension PostgresRelayStore {
    /// How long one store operation may take by default, waiting for a connection included.
    public static let defaultOperationTimeout = Duration.seconds(5)

    func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = operationTimeout
        let outcome: T?
        do {
            outcome = try await Deadline.result(by: .now + timeout, of: body)
        } catch let error as PSQLError where Self.meansUnreachable(error) {
            throw StoreUnavailableError.unreachable(loggedError(error))
        } catch let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped {
            // After about a minute of failed attempts the pool fails requests at once, until a
            // connection succeeds again.
            throw StoreUnavailableError.unreachable("the connection pool cannot connect")
        }
        guard let outcome else { throw StoreUnavailableError.timedOut(after: timeout) }
        return outcome
    }

    /// Failures of the connection rather than of the statement: the database is down, going
    /// down, or out of reach (SQLSTATE classes 08, connection exception, and 57, operator
    /// intervention, which covers a shutdown in progress).
    static func meansUnreachable(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57")
        default:
            return false
        }
    }
}
