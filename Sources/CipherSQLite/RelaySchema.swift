import GRDB

/// The relay's tables, created and upgraded by named migrations. A migration, once released,
/// never changes: a schema change is a new migration appended at the end, so every database
/// file records in GRDB's `grdb_migrations` table exactly which steps it went through.
enum RelaySchema {
    static let initialMigration = "v1-accounts-prekeys-queue"
    static let roomsMigration = "v2-rooms"
    static let blobsMigration = "v2-blobs"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(initialMigration) { db in
            try db.execute(sql: """
                CREATE TABLE accounts (
                    username TEXT PRIMARY KEY NOT NULL,
                    identity BLOB NOT NULL,
                    registered_at INTEGER NOT NULL
                );
                -- Either prekey may be published first; a bundle needs both.
                CREATE TABLE prekeys (
                    username TEXT PRIMARY KEY NOT NULL,
                    signed_prekey BLOB,
                    post_quantum_prekey BLOB
                );
                CREATE TABLE one_time_prekeys (
                    username TEXT NOT NULL,
                    id INTEGER NOT NULL,
                    encoded BLOB NOT NULL,
                    PRIMARY KEY (username, id)
                ) WITHOUT ROWID;
                -- AUTOINCREMENT keeps the highest id ever used in sqlite_sequence, so delivery
                -- ids are never reused, even after the queue empties.
                CREATE TABLE queue (
                    delivery_id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sender TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    client_message_id BLOB NOT NULL,
                    accepted_at INTEGER NOT NULL,
                    envelope BLOB NOT NULL
                );
                CREATE UNIQUE INDEX queue_by_client_message ON queue (recipient, sender, client_message_id);
                CREATE INDEX queue_by_recipient ON queue (recipient, delivery_id);
                -- expire() deletes by age inside a write transaction, which holds up group
                -- commit; without this index it would scan the whole queue.
                CREATE INDEX queue_by_accepted_at ON queue (accepted_at);
                """)
        }
        migrator.registerMigration(roomsMigration) { db in
            try db.execute(sql: """
                -- A room exists once it has a statement; its epoch is the highest one stored.
                CREATE TABLE room_statements (
                    room TEXT NOT NULL,
                    epoch INTEGER NOT NULL,
                    statement BLOB NOT NULL,
                    PRIMARY KEY (room, epoch)
                ) WITHOUT ROWID;
                CREATE TABLE room_members (
                    room TEXT NOT NULL,
                    username TEXT NOT NULL,
                    PRIMARY KEY (room, username)
                ) WITHOUT ROWID;
                CREATE INDEX room_members_by_username ON room_members (username, room);
                """)
        }
        migrator.registerMigration(blobsMigration) { db in
            // Metadata only: the encrypted chunks are files in the blob directory. Usernames
            // hold no comma (PROTOCOL.md 12.2), so the lists are comma-separated text.
            try db.execute(sql: """
                CREATE TABLE blobs (
                    id BLOB PRIMARY KEY NOT NULL,
                    owner TEXT NOT NULL,
                    recipients TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    chunk_size INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    stored_chunks INTEGER NOT NULL,
                    complete INTEGER NOT NULL,
                    fetched_by TEXT NOT NULL
                );
                CREATE INDEX blobs_by_owner ON blobs (owner);
                CREATE INDEX blobs_by_created_at ON blobs (created_at);
                """)
        }
        return migrator
    }
}
