import CipherClient
import CipherCore
import Foundation
import Logging
import Testing

/// The owner's local API over its real Unix socket (docs/API.md), driven as a script would.
@Suite("local API")
struct LocalAPITests {
    /// Alice's client owning her home and serving the API; bob, a plain client.
    struct Owner {
        let relay: TestRelay
        let alice: ChatClient
        let bob: ChatClient
        let bobEvents: EventCollector
        let server: LocalAPIServer
        let events: LocalAPIEvents
        let home: String

        static func start() async throws -> Owner {
            let relay = try await TestRelay.start()
            let home = TestRelay.temporaryHome()
            let alice = try await relay.makeUser("alice", home: home)
            let bob = try await relay.makeUser("bob")
            let events = LocalAPIEvents()
            let aliceEvents = alice.events
            Task { for await event in aliceEvents { await events.publish(event) } }
            let server = try await LocalAPIServer.start(
                methods: LocalAPIMethods(client: alice, events: events), events: events, home: home, logger: Logger(label: "test")
            )
            try await alice.start()
            let bobEvents = EventCollector()
            await bobEvents.follow(bob)
            try await bob.start()
            return Owner(relay: relay, alice: alice, bob: bob, bobEvents: bobEvents, server: server, events: events, home: home)
        }

        func stop() async {
            await server.stop()
            await alice.close()
            await bob.close()
            await relay.stop()
        }
    }

    private func call(_ connection: LocalAPIConnection, _ method: String, _ params: [String: any Sendable] = [:]) async throws -> Any {
        try await connection.call(method, params as [String: Any], timeout: 60)
    }

    @Test("version, whoami and send answer as docs/API.md says; the recipient gets the message once")
    func methods() async throws {
        let owner = try await Owner.start()
        let connection = try #require(LocalAPIConnection.connect(home: owner.home))
        let version = try #require(try await call(connection, "version") as? [String: Any])
        #expect(version["api"] as? Int == LocalAPIMethods.apiVersion)
        #expect(version["cipherchat"] as? String == ProductVersion.current)
        let whoami = try #require(try await call(connection, "whoami") as? [String: Any])
        #expect(whoami["username"] as? String == "alice")
        #expect(whoami["fingerprint"] as? String == owner.alice.fingerprint.displayString)

        let sent = try #require(try await call(connection, "send", ["recipient": "bob", "message": "hello over the socket"]) as? [String: Any])
        #expect(sent["to"] as? String == "bob")
        #expect(sent["text"] as? String == "hello over the socket")
        #expect(await owner.bobEvents.wait { await $0.messages.map(\.text) == ["hello over the socket"] })

        let history = try #require(try await call(connection, "history", ["with": "bob", "limit": 10]) as? [[String: Any]])
        #expect(history.map { $0["text"] as? String } == ["hello over the socket"])
        // 1 decodes as a number Foundation also casts to Bool: still a limit, not a boolean.
        let last = try #require(try await call(connection, "history", ["with": "bob", "limit": 1]) as? [[String: Any]])
        #expect(last.map { $0["text"] as? String } == ["hello over the socket"])
        await owner.stop()
    }

    @Test("errors carry JSON-RPC codes, a stable kind and the CLI's exit code")
    func errors() async throws {
        let owner = try await Owner.start()
        let connection = try #require(LocalAPIConnection.connect(home: owner.home))
        let cases: [(String, [String: any Sendable], Int, String, Int32)] = [
            ("nosuch", [:], -32601, "unknown_method", 64),
            ("send", ["recipient": "bob"], -32602, "invalid_params", 64),
            ("send", ["recipient": "bob", "message": ""], -32602, "invalid_params", 64),
            ("send", ["recipient": "alice", "message": "to myself"], -32602, "invalid_params", 64),
            ("history", ["limit": true], -32602, "invalid_params", 64),
            ("send", ["recipient": "nobody-here", "message": "hi"], -32000, "relay_refused", 1),
        ]
        for (method, params, code, kind, exitCode) in cases {
            do {
                _ = try await call(connection, method, params)
                Issue.record("\(method) \(params) succeeded")
            } catch let error as LocalAPIError {
                #expect(error.code == code, "\(method) \(params)")
                #expect(error.kind == kind, "\(method) \(params): \(error.message)")
                #expect(error.exitCode == exitCode, "\(method) \(params)")
            }
        }
        await owner.stop()
    }

    @Test("a subscriber is told of received messages and of messages another connection sent")
    func subscribe() async throws {
        let owner = try await Owner.start()
        let subscriber = try #require(LocalAPIConnection.connect(home: owner.home))
        _ = try await call(subscriber, "subscribe")
        try await owner.bob.send("to alice", to: "alice")
        let sender = try #require(LocalAPIConnection.connect(home: owner.home))
        _ = try await call(sender, "send", ["recipient": "bob", "message": "from a script"])
        var seen: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while seen.count < 2, let (method, params) = try await subscriber.nextNotification(until: deadline) {
            if method == "receive" || method == "sent" { seen.append("\(method): \(params["text"] as? String ?? "")") }
        }
        #expect(Set(seen) == ["receive: to alice", "sent: from a script"])
        await owner.stop()
    }

    @Test("the socket is 0600, and a process of another user is refused even when the modes are loosened",
          .enabled(if: getuid() == 0, "needs root, to run a client as another user"))
    func otherUserRefused() async throws {
        let owner = try await Owner.start()
        let attributes = try FileManager.default.attributesOfItem(atPath: owner.server.socketPath)
        #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o777 == 0o600)
        #expect(chmod(owner.home, 0o777) == 0)
        #expect(chmod(owner.server.socketPath, 0o777) == 0)
        let script = """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.settimeout(60); s.connect(sys.argv[1])
            s.sendall(b'{"jsonrpc":"2.0","id":1,"method":"send","params":{"recipient":"bob","message":"forged"}}\\n')
            print(s.makefile().readline().strip())
            """
        let socketPath = owner.server.socketPath
        // Reading the child's output blocks: on a thread of its own, so the owner can answer.
        let answer = try await onOwnThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script, socketPath]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return answer
        }
        #expect(answer.contains("\"forbidden\""), "the answer was: \(answer)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(await owner.bobEvents.messages.isEmpty)
        await owner.stop()
    }
}
