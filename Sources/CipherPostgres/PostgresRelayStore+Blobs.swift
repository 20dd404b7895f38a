import CipherRelay
import NIOCore
import Logging
import PostgresNIO

extension PostgresRelayStore {
    /// In one transaction holding a lock per owner: two uploads of one owner on two instances
    /// cannot both pass the quota on the same stored total.
    public func createBlob(_ blob: StoredBlob, ownerQuota: UInt64) async throws -> BlobCreation {
        return try await bounded { [self] in
            try await client.withConnection { connection in
                _ = try await connection.query("BEGIN", logger: logger)
                do {
                    let outcome = try await createBlob(blob, ownerQuota: ownerQuota, on: connection)
                    _ = try await connection.query("COMMIT", logger: logger)
                    return outcome
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    private func createBlob(_ blob: StoredBlob, ownerQuota: UInt64, on connection: PostgresConnection) async throws -> BlobCreation {
        _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("cipherchat-blob-owner:" + blob.owner)))", logger: logger)
        if let existing = try await Self.blob(id: blob.id, on: connection, logger: logger) { return .exists(existing) }
        let totals = try await connection.query(
            "SELECT coalesce(sum(size), 0)::bigint FROM blobs WHERE owner = \(blob.owner)", logger: logger
        )
        var used: Int64 = 0
        for try await total in totals.decode(Int64.self) { used = total }
        guard UInt64(clamping: used) + blob.size <= ownerQuota else { return .quotaExceeded(quota: ownerQuota) }
        let inserted = try await connection.query("""
            INSERT INTO blobs (id, owner, recipients, size, chunk_size, created_at, stored_chunks, complete, fetched_by)
            VALUES (\(ByteBuffer(bytes: blob.id)), \(blob.owner), \(blob.recipients), \(Int64(clamping: blob.size)),
                    \(Int32(clamping: blob.chunkSize)), \(Int64(clamping: blob.createdAtMilliseconds)),
                    \(Int64(clamping: blob.storedChunks)), \(blob.complete), \(blob.fetchedBy))
            ON CONFLICT (id) DO NOTHING RETURNING 1
            """, logger: logger)
        for try await _ in inserted { return .created(blob) }
        // Another owner's upload took the id meanwhile.
        guard let existing = try await Self.blob(id: blob.id, on: connection, logger: logger) else {
            throw PostgresRelayStoreError.unexpectedResult
        }
        return .exists(existing)
    }

    public func blob(id: [UInt8]) async throws -> StoredBlob? {
        return try await bounded { [self] in
            try await client.withConnection { connection in try await Self.blob(id: id, on: connection, logger: logger) }
        }
    }

    public func updateBlobProgress(id: [UInt8], storedChunks: UInt64, complete: Bool) async throws {
        try await bounded { [self] in
            try await client.query(
                "UPDATE blobs SET stored_chunks = \(Int64(clamping: storedChunks)), complete = \(complete) WHERE id = \(ByteBuffer(bytes: id))",
                logger: logger
            )
        }
    }

    /// One statement: concurrent fetches by several recipients each add their own name.
    public func recordBlobFetched(id: [UInt8], by username: String) async throws -> StoredBlob? {
        return try await bounded { [self] in
            try await client.query("""
                UPDATE blobs SET fetched_by = array_append(fetched_by, \(username))
                WHERE id = \(ByteBuffer(bytes: id)) AND NOT (\(username) = ANY (fetched_by))
                """, logger: logger)
            return try await blob(id: id)
        }
    }

    public func deleteBlob(id: [UInt8]) async throws {
        try await bounded { [self] in
            try await client.query("DELETE FROM blobs WHERE id = \(ByteBuffer(bytes: id))", logger: logger)
        }
    }

    public func expireBlobs(createdBefore cutoffMilliseconds: UInt64) async throws -> [[UInt8]] {
        return try await bounded { [self] in
            let rows = try await client.query(
                "DELETE FROM blobs WHERE created_at < \(Int64(clamping: cutoffMilliseconds)) RETURNING id", logger: logger
            )
            var ids: [[UInt8]] = []
            for try await id in rows.decode(ByteBuffer.self) { ids.append(Array(id.readableBytesView)) }
            return ids
        }
    }

    private static func blob(id: [UInt8], on connection: PostgresConnection, logger: Logger) async throws -> StoredBlob? {
        let rows = try await connection.query("""
            SELECT owner, recipients, size, chunk_size, created_at, stored_chunks, complete, fetched_by
            FROM blobs WHERE id = \(ByteBuffer(bytes: id))
            """, logger: logger)
        for try await (owner, recipients, size, chunkSize, createdAt, storedChunks, complete, fetchedBy)
            in rows.decode((String, [String], Int64, Int32, Int64, Int64, Bool, [String]).self) {
            return StoredBlob(
                id: id, owner: owner, recipients: recipients, size: UInt64(clamping: size), chunkSize: UInt32(clamping: chunkSize),
                createdAtMilliseconds: UInt64(clamping: createdAt), storedChunks: UInt64(clamping: storedChunks),
                complete: complete, fetchedBy: fetchedBy
            )
        }
        return nil
    }
}
