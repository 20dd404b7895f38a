import CipherRelay
import GRDB

/// Every write goes through here, so that the failures that pass on their own are told apart
/// from faults. A full disk (SQLITE_FULL) and a lock another process held past the busy
/// timeout (SQLITE_BUSY: a backup, the sqlite3 shell) are `StoreUnavailableError`: the relay
/// answers `CODE_STORE_UNAVAILABLE`, the sender keeps the message in its outbox and sends it
/// again, and the relay goes on serving. Anything else stays as SQLite reported it.
extension SQLiteRelayStore {
    /// `pool.write`, its passing failures made `StoreUnavailableError`.
    func committing<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch {
            throw Self.classified(error)
        }
    }

    /// The same, on the calling thread (the queue writer).
    func committingNow<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(updates)
        } catch {
            throw Self.classified(error)
        }
    }

    static func classified(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_FULL:
            return StoreUnavailableError.diskFull("SQLite could not write (SQLITE_FULL)")
        case .SQLITE_BUSY:
            return StoreUnavailableError.timedOut(after: .milliseconds(Int64(busyTimeoutSeconds * 1000)))
        default:
            return error
        }
    }
}
