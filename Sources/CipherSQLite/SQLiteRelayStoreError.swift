/// Errors of the SQLite store itself; SQLite failures arrive as GRDB's `DatabaseError`.
/// A struct around a private enum, so that cases can be added without breaking callers.
public struct SQLiteRelayStoreError: Error, Hashable, CustomStringConvertible {
    private enum Reason: Hashable {
        case closed
        case schemaFromNewerVersion
        case busy
        case damaged
    }

    private let reason: Reason

    /// The store was closed; it accepts no more envelopes.
    public static let closed = SQLiteRelayStoreError(reason: .closed)
    /// The database was migrated by a newer CipherChat, whose schema this one does not know.
    public static let schemaFromNewerVersion = SQLiteRelayStoreError(reason: .schemaFromNewerVersion)
    /// Batches kept settling during every duplicate check of an enqueue: try again.
    public static let busy = SQLiteRelayStoreError(reason: .busy)
    /// SQLite's integrity check found the database damaged, or the file is not a database: the
    /// relay refuses to start on it rather than answer errors to every client.
    public static let damaged = SQLiteRelayStoreError(reason: .damaged)

    public var description: String {
        switch reason {
        case .closed: "the relay store is closed"
        case .schemaFromNewerVersion: "the database was written by a newer CipherChat"
        case .busy: "the relay store is busy; try again"
        case .damaged:
            "the database is damaged (SQLite's quick_check failed, or it is not a database): restore relay.sqlite from a backup, or move it aside to start with an empty store"
        }
    }
}
