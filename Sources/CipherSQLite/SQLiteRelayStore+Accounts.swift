import CipherRelay
import Foundation
import GRDB

extension SQLiteRelayStore {
    public func createAccount(_ account: StoredAccount) async throws -> AccountCreation {
        try await committing { db in
            // One transaction on the single writer connection: two registrations of one name
            // cannot interleave between the insert and the lookup.
            try db.execute(
                sql: """
                    INSERT INTO accounts (username, identity, registered_at) VALUES (?, ?, ?)
                    ON CONFLICT (username) DO NOTHING
                    """,
                arguments: [account.username, Data(sqlite: account.identity), Int64(sqlite: account.registeredAtMilliseconds)]
            )
            if db.changesCount > 0 { return .created }
            guard let existing = try Self.account(named: account.username, db) else {
                preconditionFailure("a conflicting account row vanished inside its transaction")
            }
            return .exists(existing)
        }
    }

    public func account(named username: String) async throws -> StoredAccount? {
        try await pool.read { db in try Self.account(named: username, db) }
    }

    private static func account(named username: String, _ db: Database) throws -> StoredAccount? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT username, identity, registered_at FROM accounts WHERE username = ?"),
            arguments: [username]
        ).map(StoredAccount.init(row:))
    }
}
