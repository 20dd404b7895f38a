import PostgresNIO

/// What the store logs of a failure: postgres-nio's error code and the server's SQLSTATE and
/// message, never the statement or its values (usernames, ciphertext), which
/// `String(reflecting:)` of a `PSQLError` would print.
func loggedError(_ error: any Error) -> String {
    guard let error = error as? PSQLError else { return "\(error)" }
    var parts = ["code \(error.code)"]
    if let state = error.serverInfo?[.sqlState] { parts.append("sqlstate \(state)") }
    if let message = error.serverInfo?[.message] { parts.append(message) }
    return parts.joined(separator: ": ")
}
