/// The store cannot do its work now: its database is down, restarting or out of reach, or did
/// not answer within the store's deadline. Retryable: the relay answers
/// `CODE_STORE_UNAVAILABLE` (PROTOCOL.md 12.7) instead of hanging or closing the connection,
/// and the client keeps the message in its outbox.
public struct StoreUnavailableError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Reason: Hashable {
        case timedOut(seconds: Double)
        case unreachable(String)
    }

    private let reason: Reason

    /// The operation did not finish within `timeout`; it was abandoned.
    public static func timedOut(after timeout: Duration) -> StoreUnavailableError {
        let parts = timeout.components
        return StoreUnavailableError(reason: .timedOut(seconds: Double(parts.seconds) + Double(parts.attoseconds) / 1e18))
    }

    /// The database could not be reached; `why` is the driver's reason, without values.
    public static func unreachable(_ why: String) -> StoreUnavailableError {
        StoreUnavailableError(reason: .unreachable(why))
    }

    public var description: String {
        switch reason {
        case .timedOut(let seconds): "the store did not answer within \(seconds) s"
        case .unreachable(let why): "the store's database cannot be reached: \(why)"
        }
    }
}
