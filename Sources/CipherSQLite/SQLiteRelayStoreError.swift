/// Errors of the SQLite store itself; SQLite failures arrive as GRDB's `DatabaseError`.
/// A struct around a private enum, so that cases can be added without breaking callers.
public struct SQLiteRelayStoreError: Error, Hashable, CustomStringConvertible {
    private enum Reason: Hashable {
        case closed
        case schemaFromNewerVersion
        case busy
    }

    private let reason: Reason

    /// The store was closed; it accepts no more envelopes.
    public static let closed = SQLiteRelayStoreError(reason: .closed)
    /// The database was migrated by a newer CipherChat, whose schema this one does not know.
    public static let schemaFromNewerVersion = SQLiteRelayStoreError(reason: .schemaFromNewerVersion)
    /// Batches kept settling during every duplicate check of an enqueue: try again.
    public static let busy = SQLiteRelayStoreError(reason: .busy)

    public var description: String {
        switch reason {
        case .closed: "the relay store is closed"
        case .schemaFromNewerVersion: "the database was written by a newer CipherChat"
        case .busy: "the relay store is busy; try again"
        }
    }
}
