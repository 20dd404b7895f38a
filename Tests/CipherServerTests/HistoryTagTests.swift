@testable import CipherClient
import CipherCore
import CipherTesting
import Foundation
import GRDB
import Testing

/// The history kept by lookup tags (PROTOCOL.md 10.2): a copied store does not show the
/// payloads' message ids, which the sender's store holds too.
@Suite("History rows in the client's store")
struct HistoryTagTests {
    static func openStore(_ home: String, create: Bool) throws -> ClientStore {
        let ownership = try HomeOwnership.acquire(home: home, command: "test")
        if create { return try ClientStore.create(ownership: ownership, passphrase: "p", settings: [:], kdf: .scrypt(logN: 10, r: 8, p: 1)) }
        return try ClientStore.open(ownership: ownership, passphrase: "p")
    }

    static func fileBytes(_ home: String) throws -> Data {
        var all = Data()
        for suffix in ["", "-wal"] {
            let path = (home as NSString).appendingPathComponent(ClientStore.fileName + suffix)
            if let data = FileManager.default.contents(atPath: path) { all.append(data) }
        }
        return all
    }

    @Test("records are stored under keyed tags, once each, in order; no record id is in the file")
    func recordsUnderTags() throws {
        let home = TestRelay.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try Self.openStore(home, create: true)
        let random = SeededRandomSource(seed: "history tags")
        let ids = (0..<5).map { _ in Hex.encode(random.bytes(16)) }
        var changes = StoreChanges()
        for id in ids { changes.history.append((id, Array("record \(id)".utf8))) }
        try store.commit(changes)
        // The same id again: a record already kept is not stored twice.
        var again = StoreChanges()
        again.history.append((ids[0], Array("a copy".utf8)))
        try store.commit(again)
        #expect(try store.history(limit: 100).map { String(decoding: $0, as: UTF8.self) } == ids.map { "record \($0)" })
        let file = try Self.fileBytes(home)
        for id in ids {
            #expect(file.range(of: Data(id.utf8)) == nil, "the id \(id) is in the file")
            #expect(file.range(of: Data(try #require(Hex.decode(id)))) == nil)
        }
        store.close()
    }

    @Test("a store whose history is kept by id is moved to tags at open, in order, and the old table is gone")
    func earlierStoresMove() throws {
        let home = TestRelay.temporaryHome()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = try Self.openStore(home, create: true)
        let random = SeededRandomSource(seed: "earlier history")
        let ids = (0..<4).map { _ in Hex.encode(random.bytes(16)) }
        // The table and the sealing of the versions before v3-history-tags.
        try store.database.write { db in
            try db.execute(sql: """
                CREATE TABLE history (sequence INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE, sealed BLOB NOT NULL)
                """)
            for id in ids {
                let sealed = try store.storageKey.seal(Array("old \(id)".utf8), context: "history/\(id)", random: random)
                try db.execute(sql: "INSERT INTO history (message_id, sealed) VALUES (?, ?)", arguments: [id, Data(sealed)])
            }
        }
        store.close()

        let reopened = try Self.openStore(home, create: false)
        #expect(try reopened.database.read { db in try db.tableExists("history") } == false)
        #expect(try reopened.history(limit: 100).map { String(decoding: $0, as: UTF8.self) } == ids.map { "old \($0)" })
        // A record written afterwards comes after the moved ones.
        var changes = StoreChanges()
        changes.history.append(("new", Array("new".utf8)))
        try reopened.commit(changes)
        #expect(try reopened.history(limit: 2).map { String(decoding: $0, as: UTF8.self) } == ["old \(ids[3])", "new"])
        let file = try Self.fileBytes(home)
        for id in ids { #expect(file.range(of: Data(id.utf8)) == nil, "the id \(id) is in the file") }
        reopened.close()
    }
}
