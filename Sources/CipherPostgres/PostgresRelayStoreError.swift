/// Errors of the PostgreSQL store itself; PostgreSQL failures arrive as postgres-nio's
/// `PSQLError`. A struct around a private enum, so that cases can be added without breaking
/// callers.
public struct PostgresRelayStoreError: Error, Hashable, CustomStringConvertible {
    private enum Reason: Hashable {
        case closed
        case schemaFromNewerVersion(Int)
        case invalidURL(String)
        case unexpectedResult
        case cannotOpen(String)
    }

    private let reason: Reason

    /// The store was closed; it accepts no more envelopes.
    public static let closed = PostgresRelayStoreError(reason: .closed)
    /// The database was migrated by a newer CipherChat, whose schema this one does not know.
    public static func schemaFromNewerVersion(_ version: Int) -> PostgresRelayStoreError {
        PostgresRelayStoreError(reason: .schemaFromNewerVersion(version))
    }
    /// The `--postgres` URL cannot be used; the text says why (never the password).
    public static func invalidURL(_ why: String) -> PostgresRelayStoreError {
        PostgresRelayStoreError(reason: .invalidURL(why))
    }
    /// Connecting or migrating failed; the text is the database's reason, without values.
    public static func cannotOpen(_ why: String) -> PostgresRelayStoreError {
        PostgresRelayStoreError(reason: .cannotOpen(why))
    }
    /// A statement returned rows of a shape the store did not ask for.
    public static let unexpectedResult = PostgresRelayStoreError(reason: .unexpectedResult)

    public var description: String {
        switch reason {
        case .closed: "the relay store is closed"
        case .schemaFromNewerVersion(let version): "the database has schema version \(version), written by a newer CipherChat"
        case .invalidURL(let why): "invalid PostgreSQL URL: \(why)"
        case .unexpectedResult: "the database answered with an unexpected result"
        case .cannotOpen(let why): "cannot open the PostgreSQL store: \(why)"
        }
    }
}
