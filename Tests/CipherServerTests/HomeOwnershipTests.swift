import CipherClient
import Foundation
import Testing

/// One owner per home: two clients encrypting from one store would reuse a key and nonce, so
/// the store opens only under the home's lock (SECURITY.md 6, docs/ARCHITECTURE.md).
@Suite("home ownership")
struct HomeOwnershipTests {
    private func isHomeOwned(_ error: any Error) -> Bool {
        if case ClientError.homeOwned(_, let holder) = error { return holder.contains("process \(getpid())") }
        return false
    }

    @Test("a second client cannot open a home another owns; it can once the owner lets go")
    func secondOpenRefused() async throws {
        let relay = try await TestRelay.start()
        let home = TestRelay.temporaryHome()
        let alice = try await relay.makeUser("alice", home: home)
        #expect(HomeOwnership.currentHolder(home: home)?.pid == getpid())
        #expect { _ = try ChatClient.open(home: home, passphrase: "test passphrase", command: "second") } throws: { isHomeOwned($0) }
        // Not even a wrong passphrase gets as far as the store.
        #expect { _ = try ChatClient.open(home: home, passphrase: "wrong") } throws: { isHomeOwned($0) }

        await alice.close()
        #expect(HomeOwnership.currentHolder(home: home) == nil)
        let reopened = try ChatClient.open(home: home, passphrase: "test passphrase")
        #expect(reopened.username == "alice")
        await reopened.close()
        await relay.stop()
    }

    @Test("a client waiting for the home gets it when the owner lets go, within its wait")
    func waitsForOwner() async throws {
        let relay = try await TestRelay.start()
        let home = TestRelay.temporaryHome()
        let alice = try await relay.makeUser("alice", home: home)
        // The wait for the lock blocks its thread: a thread of its own, not a cooperative one.
        let waiting = Task { try await onOwnThread { try ChatClient.open(home: home, passphrase: "test passphrase", ownerWait: 120) } }
        try await Task.sleep(for: .milliseconds(300))
        await alice.close()
        let second = try await waiting.value
        #expect(second.username == "alice")
        await second.close()
        await relay.stop()
    }

    @Test("a closed client's store refuses every use, so nothing writes it after the lock is gone")
    func closedStoreRefuses() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        _ = try await relay.makeUser("bob")
        await alice.close()
        await #expect(throws: (any Error).self) { try await alice.send("after close", to: "bob") }
        await relay.stop()
    }

    @Test("the home is 0700 and its store files 0600, an existing loose home is tightened")
    func permissions() async throws {
        let relay = try await TestRelay.start()
        let home = TestRelay.temporaryHome()
        let alice = try await relay.makeUser("alice", home: home)
        try await alice.start()
        try await alice.setTrustPolicy(.trustOnFirstUse)
        await alice.close()
        #expect(try mode(home) == 0o700)
        for name in ["client.db", "client.db-wal", "owner.lock"] where FileManager.default.fileExists(atPath: "\(home)/\(name)") {
            #expect(try mode("\(home)/\(name)") == 0o600, "\(name)")
        }
        #expect(chmod(home, 0o755) == 0)
        #expect(chmod("\(home)/client.db", 0o644) == 0)
        let reopened = try ChatClient.open(home: home, passphrase: "test passphrase")
        #expect(try mode(home) == 0o700)
        #expect(try mode("\(home)/client.db") == 0o600)
        await reopened.close()
        await relay.stop()
    }

    private func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
    }
}
