import CipherClient
import CipherPostgres
import CipherRelay
import CipherServer
import CipherTesting
import Foundation
import Logging
import Testing

/// Two relays in this process on one PostgreSQL database, a client on each: a message reaches
/// the other relay's client through a NOTIFY alone, and through the poll alone when every
/// notification is lost.
@Suite("Delivery across relays sharing a store", RequiredTool.postgres.trait, .serialized)
struct SharedQueueDeliveryTests {
    @Test("a NOTIFY brings the message to the other relay's client, with no poll to help")
    func deliveredByNotification() async throws {
        try await converseAcrossRelays(dropWakeups: false, pollInterval: .seconds(3_600))
    }

    @Test("with every notification lost, the poll of the stored queue delivers")
    func deliveredByPoll() async throws {
        try await converseAcrossRelays(dropWakeups: true, pollInterval: .milliseconds(200))
    }

    private func converseAcrossRelays(dropWakeups: Bool, pollInterval: Duration) async throws {
        let url = try PostgresCluster.shared().createDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-shared-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var relays: [(server: RelayServer, store: PostgresRelayStore, running: Task<Void, any Error>)] = []
        for index in 0..<2 {
            var configuration = ServerConfiguration(dataDirectory: directory + "/\(index)")
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
            configuration.port = 0
            configuration.relay.sharedQueuePollInterval = pollInterval
            if index == 1 {
                // One service, one certificate: the second relay presents the first's.
                configuration.tlsCertificateFile = directory + "/0/relay-cert.pem"
                configuration.tlsKeyFile = directory + "/0/relay-key.pem"
            }
            var logger = Logger(label: "shared-relay-\(index)")
            logger.logLevel = .error
            let store = try await PostgresRelayStore.connect(to: PostgresLocation(url: url), logger: logger, operationTimeout: .seconds(120))
            let server = try await RelayServer(
                configuration: configuration, store: dropWakeups ? WakeupsLost(store) : store,
                securityLog: try FileSecurityLog(directory: configuration.dataDirectory), logger: logger
            )
            relays.append((server, store, Task { try await server.run() }))
        }
        defer {
            for relay in relays { relay.running.cancel() }
        }
        let first = relays[0].server
        let second = relays[1].server
        #expect(first.tlsIdentity.certificateHash == second.tlsIdentity.certificateHash)

        let alice = try await makeUser("alice", on: first)
        let bob = try await makeUser("bob", on: second)
        let bobEvents = EventCollector()
        await bobEvents.follow(bob)
        try await alice.start()
        try await bob.start()
        try await alice.send("across relays", to: "bob")
        #expect(await bobEvents.wait(seconds: 10) { await $0.texts == ["across relays"] })

        let aliceEvents = EventCollector()
        await aliceEvents.follow(alice)
        try await bob.send("and back", to: "alice")
        #expect(await aliceEvents.wait(seconds: 10) { await $0.texts == ["and back"] })

        await alice.stop()
        await bob.stop()
        for relay in relays {
            await relay.server.shutdown()
            _ = await relay.running.result
            try await relay.store.close()
        }
    }

    private func makeUser(_ name: String, on server: RelayServer) async throws -> ChatClient {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-home-\(UUID().uuidString)").path
        return try await ChatClient.create(
            home: home, passphrase: "test passphrase", endpoint: try ServerEndpoint("127.0.0.1:\(server.localAddress.port!)"),
            username: name, trust: .pinned(certificateHash: server.tlsIdentity.certificateHash), kdf: .scrypt(logN: 10, r: 8, p: 1)
        )
    }
}

/// The PostgreSQL store with every queue notification lost: only the poll finds what another
/// relay queued.
private struct WakeupsLost: RelayStore, SharedQueueSignals {
    let store: PostgresRelayStore

    init(_ store: PostgresRelayStore) { self.store = store }

    var queueWakeups: AsyncStream<String> { AsyncStream { _ in } }
    func queuedCounts(among recipients: [String]) async throws -> [String: Int] { try await store.queuedCounts(among: recipients) }

    func createAccount(_ account: StoredAccount) async throws -> AccountCreation { try await store.createAccount(account) }
    func account(named username: String) async throws -> StoredAccount? { try await store.account(named: username) }
    func publishPrekeys(username: String, signedPrekey: [UInt8]?, postQuantumPrekey: [UInt8]?) async throws {
        try await store.publishPrekeys(username: username, signedPrekey: signedPrekey, postQuantumPrekey: postQuantumPrekey)
    }
    func addOneTimePrekeys(username: String, prekeys: [(id: UInt32, encoded: [UInt8])]) async throws -> Int {
        try await store.addOneTimePrekeys(username: username, prekeys: prekeys)
    }
    func takeBundle(username: String) async throws -> StoredBundle? { try await store.takeBundle(username: username) }
    func oneTimePrekeyCount(username: String) async throws -> Int { try await store.oneTimePrekeyCount(username: username) }
    func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) async throws -> EnqueueTicket { try await store.enqueue(envelope, quota: quota) }
    func pending(for recipient: String, after afterID: UInt64, limit: Int) async throws -> [QueuedEnvelope] {
        try await store.pending(for: recipient, after: afterID, limit: limit)
    }
    func acknowledge(recipient: String, deliveryIDs: [UInt64]) async throws {
        try await store.acknowledge(recipient: recipient, deliveryIDs: deliveryIDs)
    }
    func acknowledgeWithoutWaiting(recipient: String, deliveryIDs: [UInt64]) throws {
        try store.acknowledgeWithoutWaiting(recipient: recipient, deliveryIDs: deliveryIDs)
    }
    func expire(acceptedBefore cutoffMilliseconds: UInt64) async throws -> Int { try await store.expire(acceptedBefore: cutoffMilliseconds) }
    func queuedCount(for recipient: String) async throws -> Int { try await store.queuedCount(for: recipient) }
    func totalQueuedEnvelopes() async throws -> Int { try await store.totalQueuedEnvelopes() }
    func appendRoomStatement(room: String, epoch: UInt64, statement: [UInt8], members: [String]) async throws -> RoomAppendResult {
        try await store.appendRoomStatement(room: room, epoch: epoch, statement: statement, members: members)
    }
    func roomStatements(room: String) async throws -> [[UInt8]] { try await store.roomStatements(room: room) }
    func roomMembers(room: String) async throws -> [String] { try await store.roomMembers(room: room) }
    func rooms(of username: String) async throws -> [String] { try await store.rooms(of: username) }
    func createBlob(_ blob: StoredBlob, ownerQuota: UInt64) async throws -> BlobCreation { try await store.createBlob(blob, ownerQuota: ownerQuota) }
    func blob(id: [UInt8]) async throws -> StoredBlob? { try await store.blob(id: id) }
    func updateBlobProgress(id: [UInt8], storedChunks: UInt64, complete: Bool) async throws {
        try await store.updateBlobProgress(id: id, storedChunks: storedChunks, complete: complete)
    }
    func recordBlobFetched(id: [UInt8], by username: String) async throws -> StoredBlob? { try await store.recordBlobFetched(id: id, by: username) }
    func deleteBlob(id: [UInt8]) async throws { try await store.deleteBlob(id: id) }
    func expireBlobs(createdBefore cutoffMilliseconds: UInt64) async throws -> [[UInt8]] { try await store.expireBlobs(createdBefore: cutoffMilliseconds) }
    func close() async throws { try await store.close() }
}
