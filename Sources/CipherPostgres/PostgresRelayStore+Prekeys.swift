import CipherRelay
import NIOCore
import PostgresNIO

extension PostgresRelayStore {
    public func publishPrekeys(username: String, signedPrekey: [UInt8]?, postQuantumPrekey: [UInt8]?) async throws {
        try await bounded { [self] in
            guard signedPrekey != nil || postQuantumPrekey != nil else { return }
            // A prekey left out (NULL) keeps the one stored.
            try await client.query("""
                INSERT INTO prekeys (username, signed_prekey, post_quantum_prekey)
                VALUES (\(username), \(signedPrekey.map { ByteBuffer(bytes: $0) }), \(postQuantumPrekey.map { ByteBuffer(bytes: $0) }))
                ON CONFLICT (username) DO UPDATE SET
                    signed_prekey = coalesce(excluded.signed_prekey, prekeys.signed_prekey),
                    post_quantum_prekey = coalesce(excluded.post_quantum_prekey, prekeys.post_quantum_prekey)
                """, logger: logger)
        }
    }

    public func addOneTimePrekeys(username: String, prekeys: [(id: UInt32, encoded: [UInt8])]) async throws -> Int {
        return try await bounded { [self] in
            if !prekeys.isEmpty {
                let ids = prekeys.map { Int64($0.id) }
                let encoded = prekeys.map { ByteBuffer(bytes: $0.encoded) }
                // WITH ORDINALITY and DISTINCT ON keep the first of repeated ids in one upload.
                try await client.query("""
                    INSERT INTO one_time_prekeys (username, id, encoded)
                    SELECT DISTINCT ON (id) \(username), id, encoded
                    FROM unnest(\(ids)::bigint[], \(encoded)::bytea[]) WITH ORDINALITY AS upload (id, encoded, position)
                    ORDER BY id, position
                    ON CONFLICT (username, id) DO NOTHING
                    """, logger: logger)
            }
            return try await oneTimePrekeyCount(username: username)
        }
    }

    /// The one-time prekey is deleted by the statement that reads it; `SKIP LOCKED` lets
    /// concurrent requests, from any instance, each take a different one instead of waiting.
    public func takeBundle(username: String) async throws -> StoredBundle? {
        return try await bounded { [self] in
            let prekeys = try await client.query("""
                SELECT signed_prekey, post_quantum_prekey FROM prekeys
                WHERE username = \(username) AND signed_prekey IS NOT NULL AND post_quantum_prekey IS NOT NULL
                """, logger: logger)
            var published: (signed: ByteBuffer, postQuantum: ByteBuffer)?
            for try await (signed, postQuantum) in prekeys.decode((ByteBuffer, ByteBuffer).self) { published = (signed, postQuantum) }
            guard let published else { return nil }

            let taken = try await client.query("""
                DELETE FROM one_time_prekeys WHERE (username, id) IN (
                    SELECT username, id FROM one_time_prekeys WHERE username = \(username)
                    ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
                ) RETURNING encoded
                """, logger: logger)
            var oneTimePrekey: [UInt8]?
            for try await encoded in taken.decode(ByteBuffer.self) { oneTimePrekey = Array(encoded.readableBytesView) }
            return StoredBundle(
                signedPrekey: Array(published.signed.readableBytesView), postQuantumPrekey: Array(published.postQuantum.readableBytesView),
                oneTimePrekey: oneTimePrekey
            )
        }
    }

    public func oneTimePrekeyCount(username: String) async throws -> Int {
        return try await bounded { [self] in
            let rows = try await client.query("SELECT count(*) FROM one_time_prekeys WHERE username = \(username)", logger: logger)
            for try await count in rows.decode(Int64.self) { return Int(count) }
            throw PostgresRelayStoreError.unexpectedResult
        }
    }
}
