import CipherRelay
import Foundation
import GRDB

extension SQLiteRelayStore {
    public func publishPrekeys(username: String, signedPrekey: [UInt8]?, postQuantumPrekey: [UInt8]?) async throws {
        guard signedPrekey != nil || postQuantumPrekey != nil else { return }
        try await committing { db in
            // A prekey left out (NULL) keeps the one stored.
            try db.execute(
                sql: """
                    INSERT INTO prekeys (username, signed_prekey, post_quantum_prekey) VALUES (?, ?, ?)
                    ON CONFLICT (username) DO UPDATE SET
                        signed_prekey = coalesce(excluded.signed_prekey, signed_prekey),
                        post_quantum_prekey = coalesce(excluded.post_quantum_prekey, post_quantum_prekey)
                    """,
                arguments: [username, signedPrekey.map(Data.init(sqlite:)), postQuantumPrekey.map(Data.init(sqlite:))]
            )
        }
    }

    public func addOneTimePrekeys(username: String, prekeys: [(id: UInt32, encoded: [UInt8])]) async throws -> Int {
        let prekeys = prekeys.map { (id: Int64($0.id), encoded: Data(sqlite: $0.encoded)) }
        return try await committing { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO one_time_prekeys (username, id, encoded) VALUES (?, ?, ?)
                ON CONFLICT (username, id) DO NOTHING
                """)
            for prekey in prekeys {
                try insert.execute(arguments: [username, prekey.id, prekey.encoded])
            }
            return try Self.oneTimePrekeyCount(username: username, db)
        }
    }

    public func takeBundle(username: String) async throws -> StoredBundle? {
        // A write transaction even when it only reads: the one-time prekey handed out is
        // deleted in it, so no two callers (and no restart) can hand out the same one.
        try await committing { db in
            guard
                let prekeys = try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT signed_prekey, post_quantum_prekey FROM prekeys WHERE username = ?"),
                    arguments: [username]
                ),
                let signedPrekey = prekeys["signed_prekey"] as Data?,
                let postQuantumPrekey = prekeys["post_quantum_prekey"] as Data?
            else { return nil }

            var oneTimePrekey: [UInt8]?
            if let lowest = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, encoded FROM one_time_prekeys WHERE username = ? ORDER BY id LIMIT 1"),
                arguments: [username]
            ) {
                try db.cachedStatement(sql: "DELETE FROM one_time_prekeys WHERE username = ? AND id = ?")
                    .execute(arguments: [username, lowest["id"] as Int64])
                oneTimePrekey = [UInt8](lowest["encoded"] as Data)
            }
            return StoredBundle(
                signedPrekey: [UInt8](signedPrekey), postQuantumPrekey: [UInt8](postQuantumPrekey),
                oneTimePrekey: oneTimePrekey
            )
        }
    }

    public func oneTimePrekeyCount(username: String) async throws -> Int {
        try await pool.read { db in try Self.oneTimePrekeyCount(username: username, db) }
    }

    private static func oneTimePrekeyCount(username: String, _ db: Database) throws -> Int {
        try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM one_time_prekeys WHERE username = ?"),
            arguments: [username]
        ) ?? 0
    }
}
