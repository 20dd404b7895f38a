import CipherRelay
import Testing

/// The storage contract of RelayStore.swift, run against every backend (`StoreFactory.all`).
@Suite("Relay store contract")
struct StoreContractTests {
    // MARK: Accounts

    @Test("an account is created once; a second registration of the name gets the first back",
          arguments: StoreFactory.all)
    func accountCreation(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let alice = Fixtures.account("alice")
            #expect(try await store.createAccount(alice) == .created)
            let impostor = StoredAccount(username: "alice", identity: Fixtures.account("mallory").identity,
                                         registeredAtMilliseconds: 99)
            #expect(try await store.createAccount(impostor) == .exists(alice))
            #expect(try await store.account(named: "alice") == alice)
            #expect(try await store.account(named: "Alice") == nil)
            #expect(try await store.account(named: "bob") == nil)
        }
    }

    @Test("concurrent registrations of one name: exactly one succeeds", arguments: StoreFactory.all)
    func concurrentAccountCreation(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let attempts = (0..<8).map { StoredAccount(username: "bob", identity: [UInt8($0)], registeredAtMilliseconds: UInt64($0)) }
            let outcomes = try await withThrowingTaskGroup(of: AccountCreation.self) { group in
                for attempt in attempts { group.addTask { try await store.createAccount(attempt) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winner = try #require(try await store.account(named: "bob"))
            #expect(outcomes.filter { $0 == .created }.count == 1)
            #expect(outcomes.filter { $0 == .exists(winner) }.count == attempts.count - 1)
            #expect(attempts.contains(winner))
        }
    }

    // MARK: Prekeys

    @Test("prekeys are published, replaced one at a time, and served only when both exist",
          arguments: StoreFactory.all)
    func publishAndReplacePrekeys(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            #expect(try await store.takeBundle(username: "bob") == nil)
            try await store.publishPrekeys(username: "bob", signedPrekey: [1, 1], postQuantumPrekey: nil)
            #expect(try await store.takeBundle(username: "bob") == nil)
            try await store.publishPrekeys(username: "bob", signedPrekey: nil, postQuantumPrekey: [2, 2])
            #expect(try await store.takeBundle(username: "bob")
                == StoredBundle(signedPrekey: [1, 1], postQuantumPrekey: [2, 2], oneTimePrekey: nil))

            try await store.publishPrekeys(username: "bob", signedPrekey: [3, 3], postQuantumPrekey: nil)
            #expect(try await store.takeBundle(username: "bob")
                == StoredBundle(signedPrekey: [3, 3], postQuantumPrekey: [2, 2], oneTimePrekey: nil))
            try await store.publishPrekeys(username: "bob", signedPrekey: [4], postQuantumPrekey: [5])
            #expect(try await store.takeBundle(username: "bob")
                == StoredBundle(signedPrekey: [4], postQuantumPrekey: [5], oneTimePrekey: nil))
            #expect(try await store.takeBundle(username: "alice") == nil)
        }
    }

    @Test("one-time prekeys: ids already stored are kept, each key is handed out once, then bundles come without one",
          arguments: StoreFactory.all)
    func oneTimePrekeysHandedOutOnce(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            try await store.publishPrekeys(username: "bob", signedPrekey: [1], postQuantumPrekey: [2])
            #expect(try await store.addOneTimePrekeys(username: "bob", prekeys: [(1, [10]), (2, [20]), (3, [30])]) == 3)
            #expect(try await store.addOneTimePrekeys(username: "bob", prekeys: [(3, [99]), (4, [40]), (4, [98])]) == 4)
            #expect(try await store.addOneTimePrekeys(username: "alice", prekeys: [(1, [77])]) == 1)
            #expect(try await store.oneTimePrekeyCount(username: "bob") == 4)

            var handedOut: [[UInt8]] = []
            for _ in 0..<4 {
                let bundle = try #require(try await store.takeBundle(username: "bob"))
                handedOut.append(try #require(bundle.oneTimePrekey))
            }
            #expect(handedOut == [[10], [20], [30], [40]])
            #expect(try await store.oneTimePrekeyCount(username: "bob") == 0)
            #expect(try await store.takeBundle(username: "bob")
                == StoredBundle(signedPrekey: [1], postQuantumPrekey: [2], oneTimePrekey: nil))
            #expect(try await store.oneTimePrekeyCount(username: "alice") == 1)
        }
    }

    @Test("concurrent bundle requests never share a one-time prekey", arguments: StoreFactory.all)
    func concurrentTakeBundle(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let count = 24
            let keys = (0..<count).map { (id: UInt32($0 + 1), encoded: [UInt8(truncatingIfNeeded: $0), 0xAB]) }
            try await store.publishPrekeys(username: "bob", signedPrekey: [1], postQuantumPrekey: [2])
            #expect(try await store.addOneTimePrekeys(username: "bob", prekeys: keys) == count)

            let taken = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                for _ in 0..<count { group.addTask { try await store.takeBundle(username: "bob")?.oneTimePrekey } }
                return try await group.reduce(into: [[UInt8]?]()) { $0.append($1) }
            }
            #expect(taken.count == count)
            #expect(Set(taken.compactMap { $0 }) == Set(keys.map(\.encoded)))
            let afterwards = try #require(try await store.takeBundle(username: "bob"))
            #expect(afterwards.oneTimePrekey == nil)
            #expect(try await store.oneTimePrekeyCount(username: "bob") == 0)
        }
    }

    // MARK: Queue

    @Test("envelopes get increasing ids and come back in order, per recipient", arguments: StoreFactory.all)
    func enqueueOrder(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            var tickets: [EnqueueTicket] = []
            for (index, sender) in ["alice", "carol", "alice", "dave", "alice"].enumerated() {
                tickets.append(try await store.enqueue(Fixtures.envelope(from: sender, to: "bob", clientID: UInt8(index)), quota: 10))
                tickets.append(try await store.enqueue(Fixtures.envelope(from: sender, to: "erin", clientID: UInt8(index)), quota: 10))
            }
            // No waiting for durability in between: reads see what was enqueued before them.
            let ids = tickets.compactMap { $0.result.envelope?.deliveryID }
            #expect(ids.count == tickets.count)
            #expect(ids == ids.sorted() && Set(ids).count == ids.count)

            let forBob = try await store.pending(for: "bob", after: 0, limit: 100)
            #expect(forBob.map(\.deliveryID) == stride(from: 0, to: ids.count, by: 2).map { ids[$0] })
            #expect(forBob.map(\.sender) == ["alice", "carol", "alice", "dave", "alice"])
            #expect(forBob.allSatisfy { $0.recipient == "bob" })
            #expect(forBob.first == tickets.first?.result.envelope)
            for ticket in tickets { try await ticket.durable() }
            #expect(try await store.pending(for: "erin", after: 0, limit: 100).count == 5)
            #expect(try await store.pending(for: "frank", after: 0, limit: 100).isEmpty)
        }
    }

    @Test("a repeated (sender, client message id) is a duplicate of the queued envelope", arguments: StoreFactory.all)
    func duplicates(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let original = try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 7)).envelope)
            let again = Fixtures.envelope(from: "alice", to: "bob", clientID: 7, at: 5_000, body: [0xFF])
            let ticket = try await store.enqueue(again, quota: 100)
            #expect(ticket.result == .duplicate(original))
            try await ticket.durable()

            // The same client id from another sender, or to another recipient, is another message.
            let otherSender = try await store.enqueueDurably(Fixtures.envelope(from: "carol", to: "bob", clientID: 7))
            let otherRecipient = try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "carol", clientID: 7))
            guard case .stored(let fromCarol) = otherSender, case .stored = otherRecipient else {
                Issue.record("expected both stored: \(otherSender), \(otherRecipient)")
                return
            }
            #expect(fromCarol.deliveryID > original.deliveryID)

            // A duplicate of an envelope not yet durable is found too.
            let first = try await store.enqueue(Fixtures.envelope(from: "dave", to: "bob", clientID: 1), quota: 100)
            let second = try await store.enqueue(Fixtures.envelope(from: "dave", to: "bob", clientID: 1), quota: 100)
            #expect(second.result == .duplicate(try #require(first.result.envelope)))
            try await first.durable()

            // Once acknowledged, the id may be used again.
            try await store.acknowledge(recipient: "bob", deliveryIDs: [original.deliveryID])
            guard case .stored(let resent) = try await store.enqueueDurably(again) else {
                Issue.record("a message acknowledged before is stored anew")
                return
            }
            #expect(resent.deliveryID > original.deliveryID && resent.envelope == [0xFF])
            #expect(try await store.queuedCount(for: "bob") == 3)
        }
    }

    @Test("concurrent enqueues of one message store it once", arguments: StoreFactory.all)
    func concurrentDuplicates(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let envelope = Fixtures.envelope(from: "alice", to: "bob", clientID: 42)
            let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
                for _ in 0..<16 { group.addTask { try await store.enqueueDurably(envelope) } }
                return try await group.reduce(into: [EnqueueResult]()) { $0.append($1) }
            }
            let stored = results.compactMap { result -> QueuedEnvelope? in
                if case .stored(let envelope) = result { envelope } else { nil }
            }
            try #require(stored.count == 1)
            #expect(results.filter { $0 == .duplicate(stored[0]) }.count == 15)
            #expect(try await store.pending(for: "bob", after: 0, limit: 100) == stored)
            #expect(try await store.queuedCount(for: "bob") == 1)
        }
    }

    @Test("a full queue refuses new envelopes but still recognises duplicates", arguments: StoreFactory.all)
    func quota(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            var stored: [QueuedEnvelope] = []
            for clientID in UInt8(0)..<3 {
                stored.append(try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID), quota: 3).envelope))
            }
            #expect(try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 3), quota: 3).result
                == .quotaExceeded(quota: 3))
            #expect(try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 1), quota: 3).result
                == .duplicate(stored[1]))
            #expect(try await store.enqueue(Fixtures.envelope(from: "alice", to: "carol", clientID: 3), quota: 3).result.envelope != nil)

            try await store.acknowledge(recipient: "bob", deliveryIDs: [stored[0].deliveryID])
            #expect(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 3), quota: 3).envelope != nil)
            #expect(try await store.queuedCount(for: "bob") == 3)
        }
    }

    @Test("one sender fills only its share of a queue: others still reach the recipient, and an acknowledgement or an expiry frees the share", arguments: StoreFactory.all)
    func senderShare(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let quota = QueueQuota(total: 5, perSender: 2)
            var fromMallory: [QueuedEnvelope] = []
            for clientID in UInt8(0)..<2 {
                let envelope = Fixtures.envelope(from: "mallory", to: "bob", clientID: clientID, at: UInt64(clientID))
                fromMallory.append(try #require(try await store.enqueueDurably(envelope, quota: quota).envelope))
            }
            // A third from the same sender, before and after its batch commits: refused.
            #expect(try await store.enqueue(Fixtures.envelope(from: "mallory", to: "bob", clientID: 2), quota: quota).result
                == .senderQuotaExceeded(quota: 2))
            // A repeat of one queued is still recognised.
            #expect(try await store.enqueue(Fixtures.envelope(from: "mallory", to: "bob", clientID: 1, at: 1), quota: quota).result
                == .duplicate(fromMallory[1]))
            // Other senders, and mallory to another recipient, are not held back.
            for sender in ["alice", "carol"] {
                #expect(try await store.enqueueDurably(Fixtures.envelope(from: sender, to: "bob", clientID: 9), quota: quota).envelope != nil)
            }
            #expect(try await store.enqueueDurably(Fixtures.envelope(from: "mallory", to: "erin", clientID: 2), quota: quota).envelope != nil)
            // The whole quota still binds first: 4 queued, one more fits, then nobody.
            #expect(try await store.enqueueDurably(Fixtures.envelope(from: "dave", to: "bob", clientID: 9), quota: quota).envelope != nil)
            #expect(try await store.enqueue(Fixtures.envelope(from: "frank", to: "bob", clientID: 9), quota: quota).result
                == .quotaExceeded(quota: 5))

            // Acknowledging one of mallory's frees a place in the queue and in mallory's share.
            try await store.acknowledge(recipient: "bob", deliveryIDs: [fromMallory[0].deliveryID])
            #expect(try await store.enqueueDurably(Fixtures.envelope(from: "mallory", to: "bob", clientID: 3, at: 10), quota: quota).envelope != nil)
            #expect(try await store.enqueue(Fixtures.envelope(from: "mallory", to: "bob", clientID: 4), quota: quota).result
                == .quotaExceeded(quota: 5))
            // Expiring mallory's oldest (accepted at 1) frees its share again.
            #expect(try await store.expire(acceptedBefore: 2) >= 1)
            #expect(try await store.enqueueDurably(Fixtures.envelope(from: "mallory", to: "bob", clientID: 5, at: 11), quota: quota).envelope != nil)
        }
    }

    @Test("pending pages through a queue with after and limit", arguments: StoreFactory.all)
    func pendingPaging(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            var ids: [UInt64] = []
            for clientID in UInt8(0)..<7 {
                ids.append(try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID)).envelope?.deliveryID))
            }
            #expect(try await store.pending(for: "bob", after: 0, limit: 3).map(\.deliveryID) == Array(ids[0..<3]))
            #expect(try await store.pending(for: "bob", after: ids[2], limit: 3).map(\.deliveryID) == Array(ids[3..<6]))
            #expect(try await store.pending(for: "bob", after: ids[5], limit: 3).map(\.deliveryID) == [ids[6]])
            #expect(try await store.pending(for: "bob", after: ids[6], limit: 3).isEmpty)
            #expect(try await store.pending(for: "bob", after: 0, limit: 0).isEmpty)
            #expect(try await store.pending(for: "bob", after: .max, limit: 3).isEmpty)
        }
    }

    @Test("acknowledge deletes only the recipient's own envelopes", arguments: StoreFactory.all)
    func acknowledgeOwnOnly(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let toBob = try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 1)).envelope)
            let toBob2 = try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: 2)).envelope)
            let toCarol = try #require(try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "carol", clientID: 1)).envelope)

            // Bob names Carol's envelope and an id nobody has; only his own goes.
            try await store.acknowledge(recipient: "bob", deliveryIDs: [toBob.deliveryID, toCarol.deliveryID, toCarol.deliveryID + 1_000])
            #expect(try await store.pending(for: "bob", after: 0, limit: 10) == [toBob2])
            #expect(try await store.pending(for: "carol", after: 0, limit: 10) == [toCarol])
            #expect(try await store.queuedCount(for: "bob") == 1)
            #expect(try await store.queuedCount(for: "carol") == 1)

            // Acknowledging again, or nothing, changes nothing.
            try await store.acknowledge(recipient: "bob", deliveryIDs: [toBob.deliveryID])
            try await store.acknowledge(recipient: "bob", deliveryIDs: [])
            #expect(try await store.queuedCount(for: "bob") == 1)
        }
    }

    @Test("an envelope acknowledged before its commit is deleted all the same", arguments: StoreFactory.all)
    func acknowledgeBeforeDurable(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let ticket = try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: 1), quota: 10)
            let envelope = try #require(ticket.result.envelope)
            try await store.acknowledge(recipient: "bob", deliveryIDs: [envelope.deliveryID])
            try await ticket.durable()
            #expect(try await store.pending(for: "bob", after: 0, limit: 10).isEmpty)
            #expect(try await store.queuedCount(for: "bob") == 0)
        }
    }

    @Test("expire deletes envelopes accepted before the cutoff", arguments: StoreFactory.all)
    func expiry(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            for (clientID, acceptedAt) in [(1, 100), (2, 200), (3, 300)] as [(UInt8, UInt64)] {
                _ = try await store.enqueueDurably(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID, at: acceptedAt))
            }
            _ = try await store.enqueueDurably(Fixtures.envelope(from: "bob", to: "carol", clientID: 1, at: 150))

            #expect(try await store.expire(acceptedBefore: 100) == 0)
            #expect(try await store.expire(acceptedBefore: 201) == 3)
            #expect(try await store.pending(for: "bob", after: 0, limit: 10).map(\.acceptedAtMilliseconds) == [300])
            #expect(try await store.queuedCount(for: "bob") == 1)
            #expect(try await store.queuedCount(for: "carol") == 0)
            #expect(try await store.expire(acceptedBefore: .max) == 1)
            #expect(try await store.queuedCount(for: "bob") == 0)
        }
    }

    @Test("empty byte strings are stored as empty, not lost", arguments: StoreFactory.all)
    func emptyBytes(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            let empty = NewEnvelope(sender: "alice", recipient: "bob", clientMessageID: [], acceptedAtMilliseconds: 0, envelope: [])
            let stored = try #require(try await store.enqueueDurably(empty).envelope)
            #expect(try await store.enqueue(empty, quota: 10).result == .duplicate(stored))
            #expect(try await store.pending(for: "bob", after: 0, limit: 10) == [stored])
            #expect(stored.clientMessageID == [] && stored.envelope == [])

            let account = StoredAccount(username: "", identity: [], registeredAtMilliseconds: 0)
            #expect(try await store.createAccount(account) == .created)
            #expect(try await store.account(named: "") == account)
            try await store.publishPrekeys(username: "bob", signedPrekey: [], postQuantumPrekey: [])
            _ = try await store.addOneTimePrekeys(username: "bob", prekeys: [(1, [])])
            #expect(try await store.takeBundle(username: "bob") == StoredBundle(signedPrekey: [], postQuantumPrekey: [], oneTimePrekey: []))
        }
    }

    @Test("queuedCount follows enqueue, acknowledge and expire", arguments: StoreFactory.all)
    func queuedCount(factory: StoreFactory) async throws {
        try await factory.withStore { store async throws in
            #expect(try await store.queuedCount(for: "bob") == 0)
            var ids: [UInt64] = []
            for clientID in UInt8(0)..<4 {
                ids.append(try #require(try await store.enqueue(Fixtures.envelope(from: "alice", to: "bob", clientID: clientID, at: UInt64(clientID)), quota: 10).result.envelope?.deliveryID))
            }
            #expect(try await store.queuedCount(for: "bob") == 4)
            try await store.acknowledge(recipient: "bob", deliveryIDs: [ids[3]])
            #expect(try await store.queuedCount(for: "bob") == 3)
            #expect(try await store.expire(acceptedBefore: 2) == 2)
            #expect(try await store.queuedCount(for: "bob") == 1)
            #expect(try await store.queuedCount(for: "alice") == 0)
        }
    }
}
