/// The store cannot do its work now: its database is down, restarting or out of reach, did not
/// answer within the store's deadline, or its disk (the database's or the blob directory's) is
/// full or cannot be written. Retryable: the relay answers `CODE_STORE_UNAVAILABLE` (PROTOCOL.md 12.7) instead of
/// hanging or closing the connection, and the client keeps the message in its outbox.
public struct StoreUnavailableError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Reason: Hashable {
        case timedOut(seconds: Double)
        case unreachable(String)
        case diskFull(String)
        case notWritable(String)
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

    /// The disk the store writes to has no room left (ENOSPC, EDQUOT, SQLITE_FULL); `what` says
    /// which write failed, without paths or values. It passes once the operator frees space.
    public static func diskFull(_ what: String) -> StoreUnavailableError {
        StoreUnavailableError(reason: .diskFull(what))
    }

    /// The store's files cannot be written (a read-only filesystem, or permissions the operator
    /// changed); `what` says which write failed, without paths. It passes once the operator
    /// makes them writable again.
    public static func notWritable(_ what: String) -> StoreUnavailableError {
        StoreUnavailableError(reason: .notWritable(what))
    }

    /// Whether the store's files could not be written, for the log.
    public var isNotWritable: Bool {
        if case .notWritable = reason { return true }
        return false
    }

    /// Whether the cause is a full disk rather than a database out of reach: the client is told
    /// so, in the error's fixed text.
    public var isDiskFull: Bool {
        if case .diskFull = reason { return true }
        return false
    }

    public var description: String {
        switch reason {
        case .timedOut(let seconds): "the store did not answer within \(seconds) s"
        case .unreachable(let why): "the store's database cannot be reached: \(why)"
        case .diskFull(let what): "the store's disk is full: \(what)"
        case .notWritable(let what): "the store's files cannot be written: \(what)"
        }
    }
}
