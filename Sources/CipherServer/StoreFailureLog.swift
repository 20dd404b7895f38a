import CipherRelay
import Logging
import Synchronization

/// Store failures at the error level, with what the relay was doing: a full disk, a damaged
/// database or an outage must show in the log at the default level, not only in a metric.
///
/// During an outage every request fails; so each operation logs at once, then at most once per
/// `interval`, saying how many failures it did not log meanwhile. What is logged is the
/// operation and the error's description, which names the store's failure (SQLite's or
/// PostgreSQL's message, a statement without its arguments), never a message or a key.
final class StoreFailureLog: Sendable {
    private let logger: Logger
    private let interval: Duration
    private let state = Mutex<[StoreOperation: (lastLogged: ContinuousClock.Instant, unlogged: Int)]>([:])

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    func record(_ operation: StoreOperation, _ error: any Error) {
        let now = ContinuousClock.now
        let unlogged: Int? = state.withLock { state in
            if let last = state[operation], now - last.lastLogged < interval {
                state[operation] = (last.lastLogged, last.unlogged + 1)
                return nil
            }
            let unlogged = state[operation]?.unlogged ?? 0
            state[operation] = (now, 0)
            return unlogged
        }
        guard let unlogged else { return }
        var metadata: Logger.Metadata = ["operation": "\(operation.rawValue)", "error": "\(Self.describe(error))"]
        if unlogged > 0 { metadata["failures_not_logged"] = "\(unlogged)" }
        if let unavailable = error as? StoreUnavailableError, unavailable.isDiskFull {
            logger.error("the store's disk is full", metadata: metadata)
        } else if let unavailable = error as? StoreUnavailableError, unavailable.isNotWritable {
            logger.error("the store's files cannot be written", metadata: metadata)
        } else if error is StoreUnavailableError {
            logger.error("the store is unavailable", metadata: metadata)
        } else {
            logger.error("a store operation failed", metadata: metadata)
        }
    }

    /// The error's description, on one line and at most 300 characters.
    static func describe(_ error: any Error) -> String {
        let text = String(describing: error).map { $0.isNewline ? " " : $0 }
        return text.count > 300 ? String(text.prefix(300)) + "…" : String(text)
    }
}
