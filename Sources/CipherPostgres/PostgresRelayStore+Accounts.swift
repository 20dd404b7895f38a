import CipherRelay
import NIOCore
import PostgresNIO

extension PostgresRelayStore {
    /// One statement: a registration of the same name on another instance either committed
    /// before (and this insert does nothing) or waits for this one.
    public func createAccount(_ account: StoredAccount) async throws -> AccountCreation {
        return try await bounded { [self] in
            let rows = try await client.query("""
                INSERT INTO accounts (username, identity, registered_at)
                VALUES (\(account.username), \(ByteBuffer(bytes: account.identity)), \(Int64(clamping: account.registeredAtMilliseconds)))
                ON CONFLICT (username) DO NOTHING RETURNING 1
                """, logger: logger)
            for try await _ in rows { return .created }
            guard let existing = try await self.account(named: account.username) else {
                throw PostgresRelayStoreError.unexpectedResult
            }
            return .exists(existing)
        }
    }

    public func account(named username: String) async throws -> StoredAccount? {
        return try await bounded { [self] in
            let rows = try await client.query(
                "SELECT identity, registered_at FROM accounts WHERE username = \(username)", logger: logger
            )
            for try await (identity, registeredAt) in rows.decode((ByteBuffer, Int64).self) {
                return StoredAccount(
                    username: username, identity: Array(identity.readableBytesView), registeredAtMilliseconds: UInt64(clamping: registeredAt)
                )
            }
            return nil
        }
    }
}
