import CipherRelay
import Foundation
import GRDB

extension SQLiteRelayStore {
    public func createBlob(_ blob: StoredBlob, ownerQuota: UInt64) async throws -> BlobCreation {
        try await committing { db in
            // One transaction on the single writer: the quota check and the insert cannot be
            // split by another upload of the same owner.
            if let existing = try Self.blob(id: blob.id, db) { return .exists(existing) }
            let used = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(size), 0) FROM blobs WHERE owner = ?", arguments: [blob.owner]) ?? 0
            guard UInt64(sqlite: used) + blob.size <= ownerQuota else { return .quotaExceeded(quota: ownerQuota) }
            try db.execute(
                sql: """
                    INSERT INTO blobs (id, owner, recipients, size, chunk_size, created_at, stored_chunks, complete, fetched_by)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(sqlite: blob.id), blob.owner, blob.recipients.joined(separator: ","), Int64(sqlite: blob.size),
                    Int64(blob.chunkSize), Int64(sqlite: blob.createdAtMilliseconds), Int64(sqlite: blob.storedChunks),
                    blob.complete, blob.fetchedBy.joined(separator: ","),
                ]
            )
            return .created(blob)
        }
    }

    public func blob(id: [UInt8]) async throws -> StoredBlob? {
        try await pool.read { db in try Self.blob(id: id, db) }
    }

    public func updateBlobProgress(id: [UInt8], storedChunks: UInt64, complete: Bool) async throws {
        try await committing { db in
            try db.execute(
                sql: "UPDATE blobs SET stored_chunks = ?, complete = ? WHERE id = ?",
                arguments: [Int64(sqlite: storedChunks), complete, Data(sqlite: id)]
            )
        }
    }

    public func recordBlobFetched(id: [UInt8], by username: String) async throws -> StoredBlob? {
        try await committing { db in
            guard var blob = try Self.blob(id: id, db) else { return nil }
            guard !blob.fetchedBy.contains(username) else { return blob }
            blob.fetchedBy = (blob.fetchedBy + [username]).sorted()
            try db.execute(
                sql: "UPDATE blobs SET fetched_by = ? WHERE id = ?",
                arguments: [blob.fetchedBy.joined(separator: ","), Data(sqlite: id)]
            )
            return blob
        }
    }

    public func deleteBlob(id: [UInt8]) async throws {
        try await committing { db in
            try db.execute(sql: "DELETE FROM blobs WHERE id = ?", arguments: [Data(sqlite: id)])
        }
    }

    public func expireBlobs(createdBefore cutoffMilliseconds: UInt64) async throws -> [[UInt8]] {
        try await committing { db in
            let cutoff = Int64(sqlite: cutoffMilliseconds)
            let ids = try Data.fetchAll(db, sql: "SELECT id FROM blobs WHERE created_at < ?", arguments: [cutoff])
            try db.execute(sql: "DELETE FROM blobs WHERE created_at < ?", arguments: [cutoff])
            return ids.map { [UInt8]($0) }
        }
    }

    private static func blob(id: [UInt8], _ db: Database) throws -> StoredBlob? {
        try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT id, owner, recipients, size, chunk_size, created_at, stored_chunks, complete, fetched_by
                FROM blobs WHERE id = ?
                """),
            arguments: [Data(sqlite: id)]
        ).map(StoredBlob.init(row:))
    }
}

extension StoredBlob {
    init(row: Row) {
        let fetchedBy: String = row["fetched_by"]
        let recipients: String = row["recipients"]
        self.init(
            id: [UInt8](row["id"] as Data),
            owner: row["owner"],
            recipients: recipients.split(separator: ",").map(String.init),
            size: UInt64(sqlite: row["size"]),
            chunkSize: UInt32(clamping: row["chunk_size"] as Int64),
            createdAtMilliseconds: UInt64(sqlite: row["created_at"]),
            storedChunks: UInt64(sqlite: row["stored_chunks"]),
            complete: row["complete"],
            fetchedBy: fetchedBy.split(separator: ",").map(String.init)
        )
    }
}
