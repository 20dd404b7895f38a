import CipherRelay
import CipherSQLite
import Foundation
import Testing

/// What only the durable store promises: data outlives the process, concurrent enqueues share
/// commits, and the schema records its migrations.
@Suite("SQLite relay store")
struct SQLiteStoreTests {
    @Test("accounts, prekeys and queue survive close and reopen; delivery ids keep increasing")
    func survivesReopen() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }

        var store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.createAccount(Fixtures.account("alice")) == .created)
        try await store.publishPrekeys(username: "alice", signedPrekey: [1], postQuantumPrekey: [2])
        _ = try await store.addOneTimePrekeys(username: "alice", prekeys: [(1, [11]), (2, [12])])
        #expect(try await store.takeBundle(username: "alice")?.oneTimePrekey == [11])
        var queued: [QueuedEnvelope] = []
        for clientID in UInt8(0)..<3 {
            queued.append(try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID)).envelope))
        }
        try await store.close()

        store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.account(named: "alice") == Fixtures.account("alice"))
        #expect(try await store.createAccount(Fixtures.account("alice")) == .exists(Fixtures.account("alice")))
        #expect(try await store.oneTimePrekeyCount(username: "alice") == 1)
        #expect(try await store.takeBundle(username: "alice") == StoredBundle(signedPrekey: [1], postQuantumPrekey: [2], oneTimePrekey: [12]))
        #expect(try await store.pending(for: "bob", after: 0, limit: 10) == queued)
        #expect(try await store.queuedCount(for: "bob") == 3)
        #expect(try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 1), quota: 10).result == .duplicate(queued[1]))
        #expect(try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 9), quota: 3).result == .quotaExceeded(quota: 3))

        // Empty the queue: the next run must still not reuse an id.
        try await store.acknowledge(recipient: "bob", deliveryIDs: queued.map(\.deliveryID))
        #expect(try await store.queuedCount(for: "bob") == 0)
        try await store.close()

        store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.pending(for: "bob", after: 0, limit: 10).isEmpty)
        let next = try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 0)).envelope)
        #expect(next.deliveryID > queued.last!.deliveryID)
        try await store.close()
    }

    @Test("close stores envelopes whose batch was still open")
    func closeFlushes() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        var store = try SQLiteRelayStore(path: file.path)
        var tickets: [EnqueueTicket] = []
        for clientID in UInt8(0)..<5 {
            tickets.append(try store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID), quota: 10))
        }
        try await store.close()
        for ticket in tickets { try await ticket.durable() }
        await #expect(throws: SQLiteRelayStoreError.closed) {
            try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 9), quota: 10)
        }

        store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.pending(for: "bob", after: 0, limit: 10) == tickets.compactMap(\.result.envelope))
        try await store.close()
    }

    @Test("200 concurrent enqueues share commits and are stored in delivery-id order")
    func groupCommit() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        let store = try SQLiteRelayStore(path: file.path)
        let count = 200
        let stored = try await withThrowingTaskGroup(of: QueuedEnvelope?.self) { group in
            for index in 0..<count {
                group.addTask {
                    let envelope = Fixtures.envelope(from: "sender\(index % 10)", to: "bob", clientID: UInt8(index / 10))
                    let ticket = try store.enqueue(envelope, quota: QueueQuota(total: count, perSender: count))
                    try await ticket.durable()
                    return ticket.result.envelope
                }
            }
            return try await group.reduce(into: [QueuedEnvelope]()) { if let envelope = $1 { $0.append(envelope) } }
        }
        #expect(stored.count == count)
        #expect(store.commitCount >= 1 && store.commitCount < count, "\(store.commitCount) commits for \(count) envelopes")

        let pending = try await store.pending(for: "bob", after: 0, limit: count + 1)
        #expect(pending == stored.sorted { $0.deliveryID < $1.deliveryID })
        #expect(try await store.queuedCount(for: "bob") == count)
        try await store.close()
    }

    @Test("acknowledged without waiting: never pending again, deleted for good once closed")
    func acknowledgeWithoutWaiting() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        var store = try SQLiteRelayStore(path: file.path)
        var queued: [QueuedEnvelope] = []
        for clientID in UInt8(0)..<3 {
            queued.append(try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID)).envelope))
        }
        try store.acknowledgeWithoutWaiting(recipient: "bob", deliveryIDs: [queued[0].deliveryID, queued[1].deliveryID])
        #expect(try await store.pending(for: "bob", after: 0, limit: 10) == [queued[2]])
        #expect(try await store.pending(for: "bob", after: 0, limit: 1) == [queued[2]])
        try await store.close()

        store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.pending(for: "bob", after: 0, limit: 10) == [queued[2]])
        #expect(try await store.queuedCount(for: "bob") == 1)
        // Deleted keys no longer count as duplicates.
        #expect(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 0)).envelope != nil)
        try await store.close()
    }

    @Test("one-time prekeys are handed out lowest id first, whatever order they were added in")
    func lowestOneTimePrekeyFirst() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        let store = try SQLiteRelayStore(path: file.path)
        try await store.publishPrekeys(username: "bob", signedPrekey: [1], postQuantumPrekey: [2])
        _ = try await store.addOneTimePrekeys(username: "bob", prekeys: [(9, [9]), (2, [2]), (5, [5])])
        var handedOut: [[UInt8]?] = []
        for _ in 0..<4 { handedOut.append(try await store.takeBundle(username: "bob")?.oneTimePrekey) }
        #expect(handedOut == [[2], [5], [9], nil])
        try await store.close()
    }

    @Test("the schema records its migrations, and WAL with synchronous FULL is in force")
    func migrationsAndSettings() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        var store = try SQLiteRelayStore(path: file.path)
        let fresh = try await store.diagnostics()
        #expect(fresh.journalMode == "wal")
        #expect(fresh.synchronous == 2)
        #expect(fresh.appliedMigrations == ["v1-accounts-prekeys-queue", "v2-rooms", "v2-blobs"])
        try await store.close()

        store = try SQLiteRelayStore(path: file.path)
        #expect(try await store.diagnostics() == fresh)
        try await store.close()
    }

    @Test("a damaged database is refused at start with a clear error, and left as it was")
    func damagedDatabaseRefused() async throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        let store = try SQLiteRelayStore(path: file.path)
        for name in ["alice", "bob", "carol"] { #expect(try await store.createAccount(Fixtures.account(name)) == .created) }
        try await store.close()
        let log = try? FileManager.default.attributesOfItem(atPath: file.path + "-wal")[.size] as? Int
        #expect((log ?? 0) == 0, "closing left \(log ?? 0) bytes in the write-ahead log")

        // Every page after the first (the schema) overwritten: the accounts table among them.
        let handle = try #require(FileHandle(forUpdatingAtPath: file.path))
        let size = try handle.seekToEnd()
        try #require(size > 8192, "the database holds \(size) bytes: its pages are not all in the file")
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data((0..<Int(size) - 4096).map { UInt8(truncatingIfNeeded: $0 &* 167 &+ 13) }))
        try handle.close()
        let damaged = try Data(contentsOf: URL(fileURLWithPath: file.path))

        #expect(throws: SQLiteRelayStoreError.damaged) { try SQLiteRelayStore(path: file.path) }
        #expect(SQLiteRelayStoreError.damaged.description.contains("restore relay.sqlite from a backup"))
        let after = try Data(contentsOf: URL(fileURLWithPath: file.path))
        #expect(after == damaged, "the refused file was changed: \(after.count) bytes, was \(damaged.count), first difference at \(String(describing: zip(after, damaged).enumerated().first { $0.element.0 != $0.element.1 }?.offset))")
    }

    @Test("a file that is not a database is refused at start as damaged")
    func notADatabaseRefused() throws {
        let file = TemporaryDatabaseFile()
        defer { file.remove() }
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: file.path))
        #expect(throws: SQLiteRelayStoreError.damaged) { try SQLiteRelayStore(path: file.path) }
    }
}
