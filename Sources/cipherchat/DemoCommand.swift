import ArgumentParser
import CipherClient
import CipherNIO
import CipherCore
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging
import Synchronization

/// Runs a real relay and two real clients on loopback, in a temporary directory, and prints
/// what each party sees and what the relay stored: ciphertext only.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Show CipherChat at work: a relay, three users, a conversation, a room, a file, what the relay stores.",
        discussion: """
            Starts a relay on a free loopback port with a SQLite store and a fresh self-signed \
            certificate in a temporary directory; creates alice, bob and carol; alice writes to bob \
            while he is offline; bob comes online, reads and replies; both see their safety number; \
            alice makes a room of the three, then removes carol, who cannot read what follows; alice \
            sends bob a file in \(ChatClient.fileChunkSize / 1024) KiB chunks and he fetches it, both \
            with their progress. The relay's stored data is shown and searched for the plaintext. \
            Everything is removed at the end.
            """
    )

    func run() async throws {
        try await runReportingFailures {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-demo-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await Self.converse(in: directory)
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

        section("Three users register (RSA-2048 identities, prekeys published)")
        let endpoint = try ServerEndpoint("127.0.0.1:\(server.localAddress.port!)")
        let trust = RelayTLS.ServerTrust.pinned(certificateHash: server.tlsIdentity.certificateHash)
        var users: [String: ChatClient] = [:]
        for name in ["alice", "bob", "carol"] {
            users[name] = try await ChatClient.create(
                home: directory + "/" + name, passphrase: "demo passphrase", endpoint: endpoint, username: name,
                trust: trust, kdf: .scrypt(logN: 14, r: 8, p: 1)
            )
            line("\(name): \(users[name]!.fingerprint.displayString)")
        }
        let alice = users["alice"]!, bob = users["bob"]!, carol = users["carol"]!

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

        let carolInbox = Inbox(client: carol)
        try await carol.start()
        let roomSecrets = try await showRoom(alice: alice, bob: bob, carol: carol, inboxes: (bobInbox, carolInbox))
        let fileMarker = try await showFile(from: alice, to: bob, inbox: bobInbox, in: directory)

        await alice.stop()
        await bob.stop()
        await carol.stop()
        await server.shutdown()
        _ = await running.result
        try await store.close()

        section("What the relay stored")
        let markers = secrets + ["Got it. See you Thursday."] + roomSecrets + [fileMarker]
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

    /// A room of three through the relay: everyone reads; carol is removed, and what is said
    /// next reaches bob only. Returns the texts said, for the search of the relay's files.
    private static func showRoom(
        alice: ChatClient, bob: ChatClient, carol: ChatClient, inboxes: (bob: Inbox, carol: Inbox)
    ) async throws -> [String] {
        section("A room: alice makes #team with bob and carol (signed membership, sender keys)")
        try await alice.createRoom("#team")
        try await alice.invite("bob", to: "#team")
        try await alice.invite("carol", to: "#team")
        line("members: \(try await alice.members(of: "#team").usernames.joined(separator: ", "))")
        let welcome = "Welcome to #team, both of you."
        try await alice.sendToRoom("#team", text: welcome)
        line("alice -> #team: \(welcome)")
        for (name, inbox) in [("bob", inboxes.bob), ("carol", inboxes.carol)] {
            for record in await inbox.take(1, where: { $0.text == welcome }) { line("\(name) reads in #team from \(record.from): \(record.text)") }
        }

        section("carol is removed: the others' sender keys are replaced, and she cannot read what follows")
        try await alice.remove("carol", from: "#team")
        line("members: \(try await alice.members(of: "#team").usernames.joined(separator: ", "))")
        let secret = "Carol is off the project; this stays between us."
        try await alice.sendToRoom("#team", text: secret)
        line("alice -> #team: \(secret)")
        for record in await inboxes.bob.take(1, where: { $0.text == secret }) { line("bob reads in #team from \(record.from): \(record.text)") }
        let carolSaw = await inboxes.carol.take(1, where: { $0.text == secret }, waitingAtMost: .seconds(1))
        line(carolSaw.isEmpty ? "carol's client received nothing of it: the relay no longer queues #team for her, and she holds no current key" : "carol read it: the removal failed!")
        return [welcome, secret]
    }

    /// A file through the relay, with the progress of both transfers. Returns a text the file
    /// holds, for the search of the relay's files.
    private static func showFile(from alice: ChatClient, to bob: ChatClient, inbox: Inbox, in directory: String) async throws -> String {
        section("A file: alice sends bob 1 MiB in \(ChatClient.fileChunkSize / 1024) KiB chunks (AES-256-GCM STREAM), bob fetches it")
        let marker = "THE QUARTERLY FIGURES, CONFIDENTIAL"
        var contents = Data(repeating: 0, count: 1 << 20)
        contents.replaceSubrange(0..<marker.utf8.count, with: Data(marker.utf8))
        let source = directory + "/report.pdf"
        try contents.write(to: URL(fileURLWithPath: source))
        let sent = try await alice.sendFile(at: source, to: "bob", progress: MilestoneProgress(party: "alice uploads").report)
        line("alice sent \(sent.name) (\(sent.size) bytes); the key travelled in her session with bob")
        guard let offer = await inbox.take(1, where: { $0.kind == "file" }).first else {
            line("bob never got the offer")
            return marker
        }
        line("bob is offered: \(offer.text)")
        let saved = directory + "/bob-report.pdf"
        let fetched = try await bob.downloadFile(id: sent.id, to: saved, progress: MilestoneProgress(party: "bob downloads").report)
        let identical = FileManager.default.contents(atPath: saved) == contents
        line("bob saved \(fetched.name): SHA-256 checked, identical to alice's: \(identical)")
        return marker
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
        await take(count, where: { _ in true })
    }

    /// The next `count` messages that satisfy `wanted`, waiting at most `limit`; the others
    /// (membership notices, say) are dropped.
    func take(_ count: Int, where wanted: (ChatRecord) -> Bool, waitingAtMost limit: Duration = .seconds(10)) async -> [ChatRecord] {
        let deadline = ContinuousClock.now + limit
        while received.filter(wanted).count < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let taken = Array(received.filter(wanted).prefix(count))
        received.removeAll { record in taken.contains { $0 == record } }
        return taken
    }
}

/// Prints a transfer's progress at each quarter, as lines: the demo's output is read, not
/// watched, and may be piped.
final class MilestoneProgress: Sendable {
    private let party: String
    private let lastQuarter = Mutex(-1)

    init(party: String) {
        self.party = party
    }

    var report: TransferProgressHandler {
        { [self] progress in
            let percent = progress.totalBytes == 0 ? 100 : Int(progress.bytesDone * 100 / progress.totalBytes)
            let quarter = percent / 25
            let due = lastQuarter.withLock { last in
                guard quarter > last else { return false }
                last = quarter
                return true
            }
            if due { DemoCommand.line("\(party): \(quarter * 25)% (\(progress.bytesDone) of \(progress.totalBytes) bytes)") }
        }
    }
}
