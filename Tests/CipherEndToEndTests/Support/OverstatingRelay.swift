import CipherCore
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging

/// A real relay in this process (TLS on loopback, a SQLite store) whose `Welcome` announces
/// `extra` more queued envelopes than it holds: a relay that says more than it sends.
final class OverstatingRelay: @unchecked Sendable {
    let server: RelayServer
    private let store: SQLiteRelayStore
    private let directory: TemporaryDirectory
    private let running: Task<Void, any Error>

    init(extra: Int) async throws {
        directory = try TemporaryDirectory(prefix: "overstating-relay")
        var configuration = ServerConfiguration(dataDirectory: directory.url.path)
        configuration.port = 0
        configuration.shutdownGraceSeconds = 1
        store = try SQLiteRelayStore(path: directory.url.appending(path: "relay.sqlite").path)
        var logger = Logger(label: "overstating-relay")
        logger.logLevel = .error
        server = try await RelayServer(
            configuration: configuration, store: Overstated(store: store, extra: extra),
            securityLog: try FileSecurityLog(directory: directory.url.path), logger: logger
        )
        let server = self.server
        running = Task { try await server.run() }
    }

    var endpoint: RelayEndpoint {
        RelayEndpoint(host: "127.0.0.1", port: server.localAddress.port!, fingerprint: Hex.encode(server.tlsIdentity.certificateHash))
    }

    func stop() async {
        await server.shutdown()
        _ = await running.result
        try? await store.close()
    }
}

/// The SQLite store, except that every queue looks `extra` envelopes longer than it is.
private struct Overstated: RelayStore {
    let store: SQLiteRelayStore
    let extra: Int

    func queuedCount(for recipient: String) async throws -> Int { try await store.queuedCount(for: recipient) + extra }

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
    func enqueue(_ envelope: NewEnvelope, quota: QueueQuota) async throws -> EnqueueTicket { try store.enqueue(envelope, quota: quota) }
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
