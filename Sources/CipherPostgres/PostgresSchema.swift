import Logging
import PostgresNIO

/// The relay's tables and functions, created and upgraded by numbered migrations recorded in
/// `schema_migrations`. A migration, once released, never changes: a schema change is a new
/// migration appended at the end.
///
/// Several relay instances may start at once against one database; each runs the migrations
/// under one session-level advisory lock, so exactly one applies a step and the others find it
/// recorded.
enum PostgresSchema {
    struct Migration {
        let version: Int
        let name: String
        /// One statement each: the extended query protocol takes one per message.
        let statements: [String]
    }

    /// The key of the advisory lock held while migrating (an arbitrary constant: "CiphChat").
    static let migrationLockKey: Int64 = 0x4369_7068_4368_6174

    /// The NOTIFY channel on which a commit names the recipients it queued envelopes for.
    static let queueChannel = "cipherchat_queue"

    static let migrations: [Migration] = [
        Migration(version: 1, name: "accounts-prekeys-queue", statements: [
            """
            CREATE TABLE accounts (
                username text PRIMARY KEY,
                identity bytea NOT NULL,
                registered_at bigint NOT NULL
            )
            """,
            // Either prekey may be published first; a bundle needs both.
            """
            CREATE TABLE prekeys (
                username text PRIMARY KEY,
                signed_prekey bytea,
                post_quantum_prekey bytea
            )
            """,
            """
            CREATE TABLE one_time_prekeys (
                username text NOT NULL,
                id bigint NOT NULL,
                encoded bytea NOT NULL,
                PRIMARY KEY (username, id)
            )
            """,
            // An identity column draws from a sequence, so delivery ids are never reused, by
            // any instance, even after the queue empties.
            """
            CREATE TABLE queue (
                delivery_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                sender text NOT NULL,
                recipient text NOT NULL,
                client_message_id bytea NOT NULL,
                accepted_at bigint NOT NULL,
                envelope bytea NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX queue_by_client_message ON queue (recipient, sender, client_message_id)",
            "CREATE INDEX queue_by_recipient ON queue (recipient, delivery_id)",
            "CREATE INDEX queue_by_accepted_at ON queue (accepted_at)",
            // One row per recipient: the quota is checked against it without counting the
            // queue, and its row lock orders every change to that recipient's queue, across
            // instances (see cipherchat_commit_batch).
            """
            CREATE TABLE queue_counts (
                recipient text PRIMARY KEY,
                queued bigint NOT NULL CHECK (queued >= 0)
            )
            """,
            commitBatchFunction,
            // One row per running instance, written by each durability flush (`WALFlusher`): a
            // commit that wrote nothing would not wait for the disk.
            """
            CREATE TABLE durability_marks (
                instance text PRIMARY KEY,
                marks bigint NOT NULL
            )
            """,
            expireFunction,
        ]),
        Migration(version: 2, name: "rooms", statements: [
            // A room exists once it has a statement; its epoch is the highest one stored.
            """
            CREATE TABLE room_statements (
                room text NOT NULL,
                epoch bigint NOT NULL,
                statement bytea NOT NULL,
                PRIMARY KEY (room, epoch)
            )
            """,
            """
            CREATE TABLE room_members (
                room text NOT NULL,
                username text NOT NULL,
                PRIMARY KEY (room, username)
            )
            """,
            "CREATE INDEX room_members_by_username ON room_members (username, room)",
            appendRoomStatementFunction,
        ]),
        // Files' metadata only: the encrypted chunks are files in the blob directory, which the
        // instances share.
        Migration(version: 3, name: "blobs", statements: [
            """
            CREATE TABLE blobs (
                id bytea PRIMARY KEY,
                owner text NOT NULL,
                recipients text[] NOT NULL,
                size bigint NOT NULL,
                chunk_size integer NOT NULL,
                created_at bigint NOT NULL,
                stored_chunks bigint NOT NULL,
                complete boolean NOT NULL,
                fetched_by text[] NOT NULL
            )
            """,
            "CREATE INDEX blobs_by_owner ON blobs (owner)",
            "CREATE INDEX blobs_by_created_at ON blobs (created_at)",
        ]),
        Migration(version: 4, name: "queue-sender-share", statements: [commitBatchWithSenderShareFunction]),
    ]

    /// Appends a room's statement at `the_epoch` and replaces its members, in one transaction,
    /// only if the room's last epoch is `the_epoch - 1`; returns -1 when appended, else the
    /// room's epoch. A transaction-level advisory lock on the room's name serializes changes to
    /// one room across instances.
    static let appendRoomStatementFunction = """
        CREATE FUNCTION cipherchat_append_room_statement(
            the_room text, the_epoch bigint, the_statement bytea, the_members text[]
        ) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            current bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock(hashtext('cipherchat-room ' || the_room));
            SELECT coalesce(max(epoch), 0) INTO current FROM room_statements WHERE room = the_room;
            IF current <> the_epoch - 1 THEN
                RETURN current;
            END IF;
            INSERT INTO room_statements (room, epoch, statement) VALUES (the_room, the_epoch, the_statement);
            DELETE FROM room_members WHERE room = the_room;
            INSERT INTO room_members (room, username) SELECT DISTINCT the_room, m FROM unnest(the_members) AS m;
            RETURN -1;
        END
        $$
        """

    /// One batch of the group commit: deletes the acknowledged envelopes, then stores the new
    /// ones, in order, and reports per envelope: 0 stored (with its delivery id), 1 duplicate
    /// (with the stored envelope's id, time and bytes), 2 over quota.
    ///
    /// The counter rows of every recipient involved are locked first, in name order, for the
    /// whole transaction: batches of several instances then never wait on each other in a
    /// cycle, the duplicate check and the quota see every committed envelope of the recipient,
    /// and a recipient's envelopes commit in the order of their delivery ids, so a reader
    /// paging with `after` never skips one. The rows exist: the store creates them, committed,
    /// before the batch. The NOTIFY is delivered when the transaction commits.
    static let commitBatchFunction = """
        CREATE FUNCTION cipherchat_commit_batch(
            senders text[], recipients text[], client_message_ids bytea[], accepted bigint[],
            envelopes bytea[], quotas bigint[], instance text,
            acknowledged_recipients text[], acknowledged_ids bigint[]
        ) RETURNS TABLE (
            out_ordinal integer, out_outcome smallint, out_delivery_id bigint, out_accepted_at bigint,
            out_envelope bytea
        ) LANGUAGE plpgsql AS $$
        DECLARE
            i integer;
            new_id bigint;
        BEGIN
            PERFORM 1 FROM queue_counts
                WHERE recipient = ANY (recipients) OR recipient = ANY (acknowledged_recipients)
                ORDER BY recipient FOR UPDATE;
            WITH gone AS (
                     DELETE FROM queue q USING unnest(acknowledged_recipients, acknowledged_ids) AS a (who, id)
                     WHERE q.recipient = a.who AND q.delivery_id = a.id RETURNING q.recipient
                 ),
                 per_recipient AS (SELECT g.recipient, count(*) AS n FROM gone g GROUP BY g.recipient)
                UPDATE queue_counts c SET queued = c.queued - p.n FROM per_recipient p WHERE c.recipient = p.recipient;
            FOR i IN 1 .. coalesce(array_length(recipients, 1), 0) LOOP
                RETURN QUERY SELECT i, 1::smallint, q.delivery_id, q.accepted_at, q.envelope FROM queue q
                    WHERE q.recipient = recipients[i] AND q.sender = senders[i]
                      AND q.client_message_id = client_message_ids[i];
                CONTINUE WHEN FOUND;
                UPDATE queue_counts SET queued = queued + 1 WHERE recipient = recipients[i] AND queued < quotas[i];
                IF NOT FOUND THEN
                    RETURN QUERY SELECT i, 2::smallint, NULL::bigint, NULL::bigint, NULL::bytea;
                    CONTINUE;
                END IF;
                INSERT INTO queue (sender, recipient, client_message_id, accepted_at, envelope)
                    VALUES (senders[i], recipients[i], client_message_ids[i], accepted[i], envelopes[i])
                    RETURNING delivery_id INTO new_id;
                PERFORM pg_notify('\(queueChannel)', instance || ' ' || recipients[i]);
                RETURN QUERY SELECT i, 0::smallint, new_id, accepted[i], NULL::bytea;
            END LOOP;
        END
        $$
        """

    /// `commitBatchFunction` with each sender's share of its recipient's quota: outcome 3 when
    /// the recipient's queue holds `sender_quotas[i]` envelopes from that sender already. The
    /// first function stays, so that instances of the release before keep working against this
    /// database during a rolling upgrade (without the share).
    static let commitBatchWithSenderShareFunction = """
        CREATE FUNCTION cipherchat_commit_batch(
            senders text[], recipients text[], client_message_ids bytea[], accepted bigint[],
            envelopes bytea[], quotas bigint[], sender_quotas bigint[], instance text,
            acknowledged_recipients text[], acknowledged_ids bigint[]
        ) RETURNS TABLE (
            out_ordinal integer, out_outcome smallint, out_delivery_id bigint, out_accepted_at bigint,
            out_envelope bytea
        ) LANGUAGE plpgsql AS $$
        DECLARE
            i integer;
            new_id bigint;
        BEGIN
            PERFORM 1 FROM queue_counts
                WHERE recipient = ANY (recipients) OR recipient = ANY (acknowledged_recipients)
                ORDER BY recipient FOR UPDATE;
            WITH gone AS (
                     DELETE FROM queue q USING unnest(acknowledged_recipients, acknowledged_ids) AS a (who, id)
                     WHERE q.recipient = a.who AND q.delivery_id = a.id RETURNING q.recipient
                 ),
                 per_recipient AS (SELECT g.recipient, count(*) AS n FROM gone g GROUP BY g.recipient)
                UPDATE queue_counts c SET queued = c.queued - p.n FROM per_recipient p WHERE c.recipient = p.recipient;
            FOR i IN 1 .. coalesce(array_length(recipients, 1), 0) LOOP
                RETURN QUERY SELECT i, 1::smallint, q.delivery_id, q.accepted_at, q.envelope FROM queue q
                    WHERE q.recipient = recipients[i] AND q.sender = senders[i]
                      AND q.client_message_id = client_message_ids[i];
                CONTINUE WHEN FOUND;
                PERFORM 1 FROM queue_counts WHERE recipient = recipients[i] AND queued < quotas[i];
                IF NOT FOUND THEN
                    RETURN QUERY SELECT i, 2::smallint, NULL::bigint, NULL::bigint, NULL::bytea;
                    CONTINUE;
                END IF;
                -- The sender's share: counted on the unique index (recipient, sender, ...),
                -- under the recipient's counter row locked above, so no other batch adds to it
                -- meanwhile. Only looked at when the share is smaller than the whole quota.
                IF sender_quotas[i] < quotas[i] AND (
                    SELECT count(*) FROM (
                        SELECT 1 FROM queue q WHERE q.recipient = recipients[i] AND q.sender = senders[i]
                        LIMIT sender_quotas[i]
                    ) AS from_sender
                ) >= sender_quotas[i] THEN
                    RETURN QUERY SELECT i, 3::smallint, NULL::bigint, NULL::bigint, NULL::bytea;
                    CONTINUE;
                END IF;
                UPDATE queue_counts SET queued = queued + 1 WHERE recipient = recipients[i];
                INSERT INTO queue (sender, recipient, client_message_id, accepted_at, envelope)
                    VALUES (senders[i], recipients[i], client_message_ids[i], accepted[i], envelopes[i])
                    RETURNING delivery_id INTO new_id;
                PERFORM pg_notify('\(queueChannel)', instance || ' ' || recipients[i]);
                RETURN QUERY SELECT i, 0::smallint, new_id, accepted[i], NULL::bytea;
            END LOOP;
        END
        $$
        """

    /// Deletes envelopes accepted before the cutoff, with the counters of their recipients
    /// locked first in name order.
    static let expireFunction = """
        CREATE FUNCTION cipherchat_expire(cutoff bigint) RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            removed bigint;
        BEGIN
            PERFORM 1 FROM queue_counts
                WHERE recipient IN (SELECT DISTINCT q.recipient FROM queue q WHERE q.accepted_at < cutoff)
                ORDER BY recipient FOR UPDATE;
            WITH gone AS (DELETE FROM queue WHERE accepted_at < cutoff RETURNING recipient),
                 per_recipient AS (SELECT recipient, count(*) AS n FROM gone GROUP BY recipient),
                 counted AS (
                     UPDATE queue_counts c SET queued = c.queued - p.n FROM per_recipient p
                     WHERE c.recipient = p.recipient RETURNING p.n
                 )
                SELECT coalesce(sum(n), 0) INTO removed FROM counted;
            RETURN removed;
        END
        $$
        """

    /// Brings the database up to the newest migration; returns the versions applied now.
    @discardableResult
    static func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        _ = try await connection.query("SELECT pg_advisory_lock(\(migrationLockKey))", logger: logger)
        do {
            let applied = try await applyMissing(on: connection, logger: logger)
            _ = try await connection.query("SELECT pg_advisory_unlock(\(migrationLockKey))", logger: logger)
            return applied
        } catch {
            _ = try? await connection.query("SELECT pg_advisory_unlock(\(migrationLockKey))", logger: logger)
            throw error
        }
    }

    private static func applyMissing(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        _ = try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var existing = Set<Int>()
        for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
            .decode(Int.self) {
            existing.insert(version)
        }
        if let newest = existing.max(), newest > migrations.last?.version ?? 0 {
            throw PostgresRelayStoreError.schemaFromNewerVersion(newest)
        }
        var applied: [Int] = []
        for migration in migrations where !existing.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                _ = try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger
                )
            }
            logger.info("applied database migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    /// The versions recorded in `schema_migrations`, in order.
    static func appliedVersions(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        var versions: [Int] = []
        for try await version in try await client.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger)
            .decode(Int.self) {
            versions.append(version)
        }
        return versions
    }
}
