import CipherPostgres
import CipherRelay
import CipherTesting
import Testing

/// Several relay instances on one PostgreSQL database: each test opens two stores on one
/// database, as two instances would, and checks that what must hold across instances holds.
@Suite("PostgreSQL store shared by instances", RequiredTool.postgres.trait)
struct PostgresSharedStoreTests {
    /// Two stores on one new database.
    private func withTwoInstances(_ body: (PostgresRelayStore, PostgresRelayStore) async throws -> Void) async throws {
        let url = try PostgresCluster.shared().createDatabase()
        // Both start at once: the migrations must not race.
        async let first = PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        async let second = PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: .quiet, operationTimeout: .seconds(120))
        let (a, b) = try await (first, second)
        do {
            try await body(a, b)
        } catch {
            try? await a.close()
            try? await b.close()
            throw error
        }
        try await a.close()
        try await b.close()
    }

    @Test("instances starting together apply each migration once")
    func concurrentMigrations() async throws {
        try await withTwoInstances { a, b async throws in
            #expect(try await a.diagnostics().appliedMigrations == [1, 2, 3, 4])
            #expect(try await b.diagnostics().appliedMigrations == [1, 2, 3, 4])
        }
    }

    @Test("a name registered on one instance is taken on the other")
    func registrationAcrossInstances() async throws {
        try await withTwoInstances { a, b async throws in
            let attempts = (0..<8).map { StoredAccount(username: "bob", identity: [UInt8($0)], registeredAtMilliseconds: UInt64($0)) }
            let outcomes = try await withThrowingTaskGroup(of: AccountCreation.self) { group in
                for (index, attempt) in attempts.enumerated() {
                    let store = index.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.createAccount(attempt) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .created }.count == 1)
            let seenByA = try await a.account(named: "bob")
            let seenByB = try await b.account(named: "bob")
            #expect(seenByA != nil && seenByA == seenByB)
        }
    }

    @Test("each one-time prekey is handed out once across instances")
    func prekeysAcrossInstances() async throws {
        try await withTwoInstances { a, b async throws in
            try await a.publishPrekeys(username: "bob", signedPrekey: [1], postQuantumPrekey: [2])
            let keys = (1...40).map { (id: UInt32($0), encoded: [UInt8($0)]) }
            #expect(try await a.addOneTimePrekeys(username: "bob", prekeys: keys) == 40)
            let handedOut = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                for index in 0..<60 {
                    let store = index.isMultiple(of: 2) ? a : b
                    group.addTask { try await store.takeBundle(username: "bob")?.oneTimePrekey }
                }
                return try await group.reduce(into: [[UInt8]?]()) { $0.append($1) }
            }
            let keysGiven = handedOut.compactMap { $0 }
            #expect(keysGiven.count == 40)
            #expect(Set(keysGiven).count == 40)
            #expect(try await b.oneTimePrekeyCount(username: "bob") == 0)
        }
    }

    @Test("enqueues through both instances: one queue, in delivery-id order, duplicates and quota shared")
    func queueAcrossInstances() async throws {
        try await withTwoInstances { a, b async throws in
            let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
                for clientID in UInt8(0)..<30 {
                    let store = clientID.isMultiple(of: 2) ? a : b
                    group.addTask {
                        let ticket = try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID), quota: 20)
                        try await ticket.durable()
                        return ticket.result
                    }
                }
                return try await group.reduce(into: [EnqueueResult]()) { $0.append($1) }
            }
            let stored = results.compactMap { if case .stored(let envelope) = $0 { envelope } else { nil } }
            #expect(stored.count == 20)
            #expect(results.filter { $0 == .quotaExceeded(quota: 20) }.count == 10)
            let queued = try await b.pending(for: "bob", after: 0, limit: 100)
            #expect(queued.map(\.deliveryID) == stored.map(\.deliveryID).sorted())
            #expect(try await a.queuedCount(for: "bob") == 20)

            // A repeat sent through the other instance is recognised.
            let first = try #require(queued.first)
            let repeatThroughOther = try await a.enqueue(
                Fixtures.envelope(from: "alice", to: "bob", clientID: first.clientMessageID[0]), quota: 100
            )
            #expect(repeatThroughOther.result == .duplicate(first))

            try await a.acknowledge(recipient: "bob", deliveryIDs: queued.map(\.deliveryID))
            #expect(try await b.queuedCount(for: "bob") == 0)
            #expect(try await b.pending(for: "bob", after: 0, limit: 100).isEmpty)
        }
    }

    @Test("a commit on one instance wakes the other, not itself")
    func wakeups() async throws {
        try await withTwoInstances { a, b async throws in
            var wakeupsOfB = b.queueWakeups.makeAsyncIterator()
            _ = try await a.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 1))
            #expect(await wakeupsOfB.next() == "bob")
            _ = try await b.enqueueDurably(Fixtures.envelope(from: "alice", to: "carol", clientID: 2))
            _ = try await a.enqueueDurably(Fixtures.envelope(from: "alice", to: "dave", clientID: 3))
            // b's own commit (for carol) is not announced to b.
            #expect(await wakeupsOfB.next() == "dave")
            #expect(try await b.queuedCounts(among: ["bob", "carol", "erin"]) == ["bob": 1, "carol": 1])
        }
    }
}
