@testable import CipherClient
import CipherCore
import CipherRelay
import CipherTesting
import Foundation
import GRDB
import Testing

/// Duplicate suppression kept as one row per received id (ClientStore+ReceivedIDs.swift).
@Suite("Received ids in the client's store")
struct ReceivedIDTests {
    @Test("a store with sealed replay windows moves them to rows at open; a replayed envelope is still dropped")
    func legacyWindowsMove() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        let bobHome = TestRelay.temporaryHome()
        let bob = try await relay.makeUser("bob", home: bobHome)
        try await alice.start()
        try await alice.send("first", to: "bob")
        let original = try #require(try await relay.store.pending(for: "bob", after: 0, limit: 10).first)
        let firstEvents = EventCollector()
        await firstEvents.follow(bob)
        try await bob.start()
        #expect(await firstEvents.wait { await $0.texts == ["first"] })
        let firstRecord = try #require(await firstEvents.messages.first)
        let messageID = try #require(Hex.decode(firstRecord.id))
        await bob.close()

        // The store as an earlier version left it: the ids in sealed windows, no rows.
        let legacy = try ClientStore.open(ownership: HomeOwnership.acquire(home: bobHome, command: "test"), passphrase: "test passphrase")
        var seen = ReplayWindow()
        seen.insert(original.clientMessageID)
        var replay = ReplayWindow()
        replay.insert(messageID)
        var changes = StoreChanges()
        changes.put("seen", "alice", seen.serialized())
        changes.put("replay", "alice", replay.serialized())
        try legacy.commit(changes)
        try await legacy.database.write { db in try db.execute(sql: "DELETE FROM received_id") }
        legacy.close()

        // The relay replays the envelope, under its own id and under a new one.
        for clientMessageID in [original.clientMessageID, [UInt8](repeating: 7, count: 16)] {
            let ticket = try relay.store.enqueue(
                NewEnvelope(sender: "alice", recipient: "bob", clientMessageID: clientMessageID,
                            acceptedAtMilliseconds: original.acceptedAtMilliseconds, envelope: original.envelope),
                quota: 100
            )
            try await ticket.durable()
        }
        let reopened = try ChatClient.open(home: bobHome, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(reopened)
        try await reopened.start()
        try await alice.send("second", to: "bob")
        #expect(await events.wait { await $0.texts.contains("second") })
        #expect(await events.texts == ["second"])
        // The copy under its own id is a known repeat, dropped without a word; the copy under a
        // new id gets as far as the ratchet, which refuses a used key. Without the moved
        // windows both would reach the ratchet: two warnings.
        #expect(await events.warnings.count == 1)

        await reopened.close()
        let moved = try ClientStore.open(ownership: HomeOwnership.acquire(home: bobHome, command: "test"), passphrase: "test passphrase")
        #expect(try moved.items("seen").isEmpty)
        #expect(try moved.items("replay").isEmpty)
        #expect(try moved.wasReceived(original.clientMessageID, in: "seen/alice"))
        #expect(try moved.wasReceived(messageID, in: "replay/alice"))
        await alice.stop()
        await relay.stop()
    }

    @Test("ids are kept as keyed tags, at least the window's capacity per scope, and cut back in bounds")
    func tagsAndPruning() throws {
        let home = TestRelay.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try ClientStore.create(
            ownership: HomeOwnership.acquire(home: home, command: "test"), passphrase: "p", settings: [:], kdf: .scrypt(logN: 10, r: 8, p: 1)
        )
        let random = SeededRandomSource(seed: "received ids")
        var ids: [[UInt8]] = []
        // Enough commits that a scope passes its capacity several times over.
        let total = ClientStore.receivedIDsPerScope * 3
        for batch in 0..<(total / 256) {
            var changes = StoreChanges()
            for _ in 0..<256 {
                let id = random.bytes(16)
                ids.append(id)
                changes.recordReceived(id, in: "replay/carol")
            }
            changes.recordReceived(ids[batch], in: "seen/carol")
            try store.commit(changes, durable: false)
        }
        let newest = ids.suffix(ClientStore.receivedIDsPerScope)
        #expect(try newest.allSatisfy { try store.wasReceived($0, in: "replay/carol") })
        #expect(try !store.wasReceived(ids[0], in: "replay/carol"))
        // Scopes are apart: an id of one is not received in another.
        #expect(try store.wasReceived(ids[0], in: "seen/carol"))
        #expect(try !store.wasReceived(ids[total - 1], in: "seen/carol"))
        let (rows, rawIDFound) = try store.database.read { db in
            let rows = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM received_id WHERE scope = 'replay/carol'") ?? 0
            let tags = try Data.fetchAll(db, sql: "SELECT tag FROM received_id")
            let idSet = Set(ids.map { Data($0) })
            return (rows, tags.contains { idSet.contains($0) })
        }
        #expect(rows >= ClientStore.receivedIDsPerScope)
        // Cut back once per 256 insertions on average: far below the 12,288 inserted.
        #expect(rows < ClientStore.receivedIDsPerScope + 3_000)
        #expect(!rawIDFound)
    }
}
