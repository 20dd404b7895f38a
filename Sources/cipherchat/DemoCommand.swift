import ArgumentParser
import CipherClient
import CipherNIO
import CipherCore
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging

/// Runs a real relay and two real clients on loopback, in a temporary directory, and prints
/// what each party sees and what the relay stored: ciphertext only.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show CipherChat at work: a relay, two users, a conversation, what the relay stores.",
        discussion: """
            Starts a relay on a free loopback port with a SQLite store and a fresh self-signed \
            certificate in a temporary directory; creates alice and bob; alice writes to bob while \
            he is offline; bob comes online, reads and replies; both see their safety number; the \
            relay's stored data is shown and searched for the plaintext. Then the core's rooms and \
            files are shown in one process. Everything is removed at the end.
            """
    )

    func run() async throws {
        try await runReportingFailures {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-demo-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await Self.converse(in: directory)
            try CoreDemo.run()
        }
    }

    static func converse(in directory: String) async throws {
        var logger = Logger(label: "cipherchat.demo")
        logger.logLevel = .error
        var configuration = ServerConfiguration(dataDirectory: directory + "/relay")
        configuration.port = 0
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let store = try SQLiteRelayStore(path: configuration.dataDirectory + "/relay.sqlite")
        let server = try await RelayServer(
            configuration: configuration, store: store,
            securityLog: try FileSecurityLog(directory: configuration.dataDirectory), logger: logger
        )
        let running = Task { try await server.run() }
        section("A relay")
        line(server.readyLine)

        section("Two users register (RSA-2048 identities, prekeys published)")
        let endpoint = try ServerEndpoint("127.0.0.1:\(server.localAddress.port!)")
        let trust = RelayTLS.ServerTrust.pinned(certificateHash: server.tlsIdentity.certificateHash)
        var users: [String: ChatClient] = [:]
        for name in ["alice", "bob"] {
            users[name] = try await ChatClient.create(
                home: directory + "/" + name, passphrase: "demo passphrase", endpoint: endpoint, username: name,
                trust: trust, kdf: .scrypt(logN: 14, r: 8, p: 1)
            )
            line("\(name): \(users[name]!.fingerprint.displayString)")
        }
        let alice = users["alice"]!, bob = users["bob"]!

        section("alice writes while bob is offline")
        try await alice.start()
        let secrets = ["Hi bob, the launch is on Thursday.", "Bring the keys to the blue door."]
        for text in secrets {
            try await alice.send(text, to: "bob")
            line("alice -> bob: \(text)")
        }
        let queued = try await store.pending(for: "bob", after: 0, limit: 10)
        line("the relay holds \(queued.count) envelopes for bob:")
        for envelope in queued {
            line("  #\(envelope.deliveryID) from \(envelope.sender), \(envelope.envelope.count) bytes: \(Hex.encode(envelope.envelope.suffix(20)))…")
        }

        section("bob comes online, reads and replies")
        let bobInbox = Inbox(client: bob)
        try await bob.start()
        for record in await bobInbox.take(secrets.count) { line("bob reads from \(record.from): \(record.text)") }
        let aliceInbox = Inbox(client: alice)
        try await bob.send("Got it. See you Thursday.", to: "alice")
        for record in await aliceInbox.take(1) { line("alice reads from \(record.from): \(record.text)") }

        section("Safety numbers: the same on both sides")
        line("alice sees: \(try await alice.safetyNumber(with: "bob").0)")
        line("bob sees:   \(try await bob.safetyNumber(with: "alice").0)")

        await alice.stop()
        await bob.stop()
        await server.shutdown()
        _ = await running.result
        try await store.close()

        section("What the relay stored")
        let markers = secrets + ["Got it. See you Thursday."]
        var found = false
        for file in (try? FileManager.default.subpathsOfDirectory(atPath: configuration.dataDirectory)) ?? [] {
            let path = configuration.dataDirectory + "/" + file
            let contents = FileManager.default.contents(atPath: path) ?? Data()
            line("\(file): \(contents.count) bytes")
            for marker in markers where contents.range(of: Data(marker.utf8)) != nil {
                found = true
                line("  PLAINTEXT FOUND: \(marker)")
            }
        }
        line(found ? "the relay stored plaintext!" : "searched every file for the messages' text: not found (ciphertext only)")
    }

    static func section(_ title: String) { print("\n== \(title)") }
    static func line(_ text: String) { print("   \(text)") }
}

/// Waits for messages on a client's event stream.
actor Inbox {
    private var received: [ChatRecord] = []

    init(client: ChatClient) {
        let events = client.events
        Task { await self.follow(events) }
    }

    private func follow(_ events: AsyncStream<ClientEvent>) async {
        for await event in events {
            if case .message(let record) = event { received.append(record) }
        }
    }

    /// The next `count` messages, waiting at most ten seconds.
    func take(_ count: Int) async -> [ChatRecord] {
        for _ in 0..<500 where received.count < count {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let taken = Array(received.prefix(count))
        received.removeFirst(taken.count)
        return taken
    }
}
