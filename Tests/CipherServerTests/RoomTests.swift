import CipherClient
import CipherCore
import CipherRelay
import CipherTesting
import CipherWire
import Foundation
import Testing

/// Rooms over real TLS on loopback with a real SQLite store: membership, fan-out, keys.
@Suite("Rooms over TLS", .serialized)
struct RoomTests {
    /// Members of one room, each followed by an event collector.
    struct Party {
        let relay: TestRelay
        var clients: [String: ChatClient] = [:]
        var events: [String: EventCollector] = [:]
        var homes: [String: String] = [:]

        static func start(_ names: [String], configure: (inout RelayConfiguration) -> Void = { _ in }) async throws -> Party {
            var party = Party(relay: try await TestRelay.start(configure: configure))
            for name in names {
                let home = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-home-\(UUID().uuidString)").path
                let client = try await ChatClient.create(
                    home: home, passphrase: "test passphrase", endpoint: party.relay.endpoint, username: name,
                    trust: party.relay.trust, kdf: .scrypt(logN: 10, r: 8, p: 1)
                )
                party.homes[name] = home
                let collector = EventCollector()
                await collector.follow(client)
                try await client.start()
                party.clients[name] = client
                party.events[name] = collector
            }
            return party
        }

        subscript(_ name: String) -> ChatClient { clients[name]! }

        func texts(_ name: String, in room: String = "#team") async -> [String] {
            await events[name]!.messages.filter { $0.room == room && $0.kind == "text" }.map(\.text)
        }

        func waitFor(_ name: String, texts expected: [String]) async -> Bool {
            await events[name]!.wait { collector in
                await collector.messages.filter { $0.room == "#team" && $0.kind == "text" }.map(\.text) == expected
            }
        }

        func stop() async {
            for client in clients.values { await client.stop() }
            await relay.stop()
        }
    }

    @Test("a room message costs message tokens by the copies it makes; a direct message costs one")
    func roomMessageCost() async throws {
        // Twenty tokens a connection and no refill to speak of; one token per recipient.
        let party = try await Party.start(["alice", "bob", "carol"]) { relay in
            relay.messageBurst = 20
            relay.messagesPerSecond = 0.001
            relay.roomRecipientsPerMessageToken = 1
        }
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        try await party["alice"].invite("carol", to: "#team")
        #expect(await party.events["bob"]!.wait { _ in (try? await party["bob"].members(of: "#team").usernames.count) == 3 })

        // A connection of bob's own, with a full bucket: each room message makes two copies.
        func acceptedSends(_ body: (Int) -> WireClientFrame.OneOf_Body) async throws -> (accepted: Int, refusal: RelayError?) {
            let link = try await RelayLink.connect(host: "127.0.0.1", port: party.relay.port, trust: party.relay.trust)
            _ = try await link.authenticate(.login, username: "bob", identity: party["bob"].identity)
            defer { Task { await link.close() } }
            for index in 0..<30 {
                do {
                    _ = try await link.request(body(index))
                } catch let error as RelayError {
                    return (index, error)
                }
            }
            return (30, nil)
        }
        let rooms = try await acceptedSends { index in
            var send = WireRoomSend()
            send.room = "#team"
            send.clientMessageID = Data(repeating: UInt8(index), count: 16)
            send.groupMessage = Data("not a real group message \(index)".utf8)
            return .roomSend(send)
        }
        #expect(rooms.accepted == 10)
        #expect(rooms.refusal?.code == .rateLimited)
        #expect(rooms.refusal?.limit == "message_rate")
        let direct = try await acceptedSends { index in
            var send = WireSendEnvelope()
            send.recipient = "alice"
            send.clientMessageID = Data(repeating: UInt8(100 + index), count: 16)
            send.envelope = Data("not a real envelope \(index)".utf8)
            return .send(send)
        }
        #expect(direct.accepted == 20)
        await party.stop()
    }

    @Test("a file sent to a room reaches every other member, who fetch it intact")
    func fileToRoom() async throws {
        let party = try await Party.start(["alice", "bob", "carol"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        try await party["alice"].invite("carol", to: "#team")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cipherchat-room-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Three chunks and a bit, so the transfer is chunked.
        let random = SeededRandomSource(seed: "room file")
        let content = Data(random.bytes(3 * ChatClient.fileChunkSize + 1_000))
        let source = directory.appendingPathComponent("plan.bin")
        try content.write(to: source)

        try await party["alice"].sendFile(at: source.path, toRoom: "#team")
        for name in ["bob", "carol"] {
            #expect(await party.events[name]!.wait { await $0.messages.contains { $0.room == "#team" && $0.kind == "file" } })
            let file = try #require(try await party[name].receivedFiles().first)
            #expect(file.from == "alice")
            let output = directory.appendingPathComponent("\(name).bin").path
            try await party[name].downloadFile(id: file.id, to: output)
            #expect(FileManager.default.contents(atPath: output) == content)
        }
        await party.stop()
    }

    @Test("three users converse in a room; the joiner reads nothing said before it joined")
    func threeUsersConverse() async throws {
        let party = try await Party.start(["alice", "bob", "carol"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        try await party["alice"].sendToRoom("#team", text: "before carol")
        #expect(await party.waitFor("bob", texts: ["before carol"]))

        try await party["alice"].invite("carol", to: "#team")
        #expect(await party.events["carol"]!.wait { await $0.messages.contains { $0.kind == "membership" && $0.membership?.member == "carol" } })
        // Bob learns of carol and sends her his key; then each speaks.
        #expect(await party.events["bob"]!.wait { await $0.messages.contains { $0.membership?.member == "carol" } })
        try await party["alice"].sendToRoom("#team", text: "hello from alice")
        try await party["bob"].sendToRoom("#team", text: "hello from bob")
        try await party["carol"].sendToRoom("#team", text: "hello from carol")
        #expect(await party.waitFor("carol", texts: ["hello from alice", "hello from bob"]))
        #expect(await party.waitFor("bob", texts: ["before carol", "hello from alice", "hello from carol"]))
        let aliceGot = await party.waitFor("alice", texts: ["hello from bob", "hello from carol"])
        let aliceTexts = await party.texts("alice")
        let aliceWarnings = await party.events["alice"]!.warnings
        #expect(aliceGot, "alice has \(aliceTexts), warnings \(aliceWarnings)")
        #expect(!(await party.texts("carol")).contains("before carol"))
        #expect(try await party["carol"].members(of: "#team").usernames == ["alice", "bob", "carol"])
        #expect(await party.events["carol"]!.warnings.isEmpty)
        await party.stop()
    }

    @Test("a member offline while messages are sent receives them on reconnect")
    func offlineMember() async throws {
        let party = try await Party.start(["alice", "bob"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        #expect(await party.events["alice"]!.wait { _ in (try? await party["alice"].members(of: "#team").usernames) == ["alice", "bob"] })
        await party["bob"].close()
        for index in 0..<5 { try await party["alice"].sendToRoom("#team", text: "while away \(index)") }
        let bob = try ChatClient.open(home: party.homes["bob"]!, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait { await $0.messages.filter { $0.room == "#team" && $0.kind == "text" }.map(\.text) == (0..<5).map { "while away \($0)" } })
        await bob.stop()
        await party.stop()
    }

    @Test("a new member's key that reaches a member before the statement admitting her is held, and applied when it comes: her messages are read")
    func keyBeforeStatement() async throws {
        let party = try await Party.start(["alice", "bob", "carol"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        #expect(await party.events["bob"]!.wait { _ in (try? await party["bob"].members(of: "#team").usernames) == ["alice", "bob"] })
        await party["bob"].close()

        // Carol joins while bob is away: his queue gets the statement, then carol's key.
        try await party["alice"].invite("carol", to: "#team")
        let store = party.relay.store
        var queued: [QueuedEnvelope] = []
        for _ in 0..<1500 {
            queued = try await store.pending(for: "bob", after: 0, limit: 100)
            if queued.contains(where: { $0.sender == "carol" }), queued.contains(where: { $0.sender == "#team" }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let statements = queued.filter { $0.sender == "#team" }
        try #require(!statements.isEmpty && queued.contains { $0.sender == "carol" }, "bob's queue: \(queued.map(\.sender))")
        // The relay delivers in the order it accepted; as if the statement had come later (a
        // copy missed while bob's queue was full, or accepted by another instance), it goes last.
        try await store.acknowledge(recipient: "bob", deliveryIDs: statements.map(\.deliveryID))
        for statement in statements {
            _ = try await store.enqueue(
                NewEnvelope(
                    sender: "#team", recipient: "bob", clientMessageID: (0..<16).map { _ in UInt8.random(in: 0...255) },
                    acceptedAtMilliseconds: statement.acceptedAtMilliseconds, envelope: statement.envelope
                ),
                quota: 1000
            )
        }

        let bob = try ChatClient.open(home: party.homes["bob"]!, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait { _ in (try? await bob.members(of: "#team").usernames) == ["alice", "bob", "carol"] })
        try await party["carol"].sendToRoom("#team", text: "carol speaking")
        let heard = await events.wait { await $0.messages.contains { $0.room == "#team" && $0.text == "carol speaking" } }
        let warnings = await events.warnings
        #expect(heard, "bob's warnings: \(warnings)")
        await bob.stop()
        await party.stop()
    }

    @Test("a member who sends a message under the id of its own removal to come cannot hide the removal from an offline member")
    func messageUnderAStatementsID() async throws {
        let party = try await Party.start(["alice", "bob", "mallory"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        try await party["alice"].invite("mallory", to: "#team")
        let everyone = ["alice", "bob", "mallory"]
        #expect(await party.events["bob"]!.wait { _ in (try? await party["bob"].members(of: "#team").usernames) == everyone })
        await party["bob"].close()

        // The removal alice is about to make is known in advance but for its signature, which
        // its hash leaves out: mallory sends a message under the id that statement would have had.
        let alice = party["alice"]
        let room = try await alice.members(of: "#team")
        let removal = try RoomStatement.sign(
            room: "#team", epoch: room.epoch + 1, previousHash: room.headHash, action: .remove, author: "alice",
            identity: alice.identity, subject: "mallory", subjectFingerprint: party["mallory"].fingerprint
        )
        let mallory = try await RelayLink.connect(host: "127.0.0.1", port: party.relay.port, trust: party.relay.trust)
        _ = try await mallory.authenticate(.login, username: "mallory", identity: party["mallory"].identity)
        var send = WireRoomSend()
        send.room = "#team"
        send.clientMessageID = Data(removal.hash.prefix(16))
        send.groupMessage = Data(repeating: 0x42, count: 64)
        _ = try await mallory.request(.roomSend(send))
        await mallory.close()

        try await alice.remove("mallory", from: "#team")
        let bob = try ChatClient.open(home: party.homes["bob"]!, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        // Bob only receives: the removal must come from his queue (asking the relay for the room,
        // as members(of:) does, would hide a removal that never came).
        let applied = await events.wait {
            await $0.messages.contains { $0.kind == "membership" && $0.membership?.action == "remove" && $0.membership?.member == "mallory" }
        }
        let seen = await events.messages.map(\.text)
        #expect(applied, "bob saw \(seen)")
        await bob.stop()
        await party.stop()
    }

    @Test("a room message for a member whose queue is full: the security log names the sender who hit the limit")
    func roomQueueFullLogsSender() async throws {
        let party = try await Party.start(["alice", "bob"]) { $0.queueQuota = 2 }
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        #expect(await party.events["alice"]!.wait { _ in (try? await party["alice"].members(of: "#team").usernames) == ["alice", "bob"] })
        await party["bob"].close()
        // Bob's queue holds the invitation's chain and the first message; the next ones find it full.
        for index in 0..<3 { try await party["alice"].sendToRoom("#team", text: "into a full queue \(index)") }
        let log = try String(contentsOfFile: party.relay.directory + "/security.log", encoding: .utf8)
        let events = log.split(separator: "\n").filter { $0.contains("queue_quota") }
        #expect(!events.isEmpty, "no queue_quota event in:\n\(log)")
        #expect(events.allSatisfy { $0.contains("\"user\":\"alice\"") }, "\(events)")
        await party.stop()
    }

    @Test("a removed member reads nothing said after, even given the raw envelopes from the relay's store")
    func removedMember() async throws {
        let party = try await Party.start(["alice", "bob", "carol"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        try await party["alice"].invite("carol", to: "#team")
        try await party["alice"].sendToRoom("#team", text: "all three")
        #expect(await party.waitFor("bob", texts: ["all three"]))
        #expect(await party.waitFor("carol", texts: ["all three"]))

        try await party["alice"].remove("bob", from: "#team")
        #expect(await party.events["bob"]!.wait { await $0.messages.contains { $0.membership?.action == "remove" } })
        #expect(await party.events["carol"]!.wait { await $0.messages.contains { $0.membership?.action == "remove" } })
        #expect(try await party.relay.store.roomMembers(room: "#team") == ["alice", "carol"])
        #expect(try await party["bob"].rooms() == [])

        // Carol goes offline so that what follows stays in her queue, to be stolen.
        await party["carol"].stop()
        try await party["alice"].sendToRoom("#team", text: "secret after removal")
        let stolen = try await party.relay.store.pending(for: "carol", after: 0, limit: 100).filter { $0.sender == "#team" }
        #expect(!stolen.isEmpty)
        for (index, envelope) in stolen.enumerated() {
            let ticket = try await party.relay.store.enqueue(
                NewEnvelope(sender: "#team", recipient: "bob", clientMessageID: [UInt8](repeating: UInt8(index + 1), count: 16),
                            acceptedAtMilliseconds: envelope.acceptedAtMilliseconds, envelope: envelope.envelope),
                quota: 100
            )
            try await ticket.durable()
        }
        // Bob reconnects to pick them up.
        await party["bob"].close()
        let bob = try ChatClient.open(home: party.homes["bob"]!, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait { await $0.warnings.count >= stolen.count })
        #expect(await events.messages.allSatisfy { !$0.text.contains("secret") })
        await bob.stop()
        await party.stop()
    }

    @Test("a membership change the relay injects, or one a non-admin signs, is refused; the intruder gets no key")
    func injectedChangesRefused() async throws {
        let party = try await Party.start(["alice", "bob", "mallory"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        #expect(await party.events["bob"]!.wait { await $0.messages.contains { $0.membership?.member == "bob" } })

        // The client refuses to make a change only an admin may make, and an honest relay
        // refuses it when sent anyway.
        await #expect(throws: (any Error).self) { try await party["bob"].invite("mallory", to: "#team") }
        let before = try await party["alice"].members(of: "#team")
        let link = try await RelayLink.connect(host: "127.0.0.1", port: party.relay.port, trust: party.relay.trust)
        _ = try await link.authenticate(.login, username: "bob", identity: party["bob"].identity)
        var change = WireRoomChange()
        change.statement = try RoomStatement.sign(
            room: "#team", epoch: before.epoch + 1, previousHash: before.headHash, action: .invite, author: "bob",
            identity: party["bob"].identity, subject: "mallory", subjectFingerprint: party["mallory"].fingerprint
        ).wire
        do {
            _ = try await link.request(.roomChange(change))
            Issue.record("the relay accepted a non-admin's invitation")
        } catch let error as RelayError {
            #expect(error.code == .membershipRefused)
        }
        await link.close()

        // A malicious relay records mallory as a member on its own, with a statement signed by
        // mallory, and another "signed" by non-admin bob's name with mallory's key, and pushes
        // both to alice and bob.
        let membership = try await party["alice"].members(of: "#team")
        let malloryIdentity = party["mallory"].identity
        var forgedByMallory: RoomStatement?
        for (author, signer) in [("mallory", malloryIdentity), ("bob", malloryIdentity)] {
            let forged = try RoomStatement.sign(
                room: "#team", epoch: membership.epoch + 1, previousHash: membership.headHash, action: .invite,
                author: author, identity: signer, subject: "mallory", subjectFingerprint: malloryIdentity.publicIdentity.fingerprint
            )
            if author == "mallory" { forgedByMallory = forged }
            var envelope = WireRoomEnvelope()
            envelope.room = "#team"
            envelope.sender = author
            envelope.chain = RoomChain.wire([forged])
            for recipient in ["alice", "bob"] {
                let ticket = try await party.relay.store.enqueue(
                    NewEnvelope(sender: "#team", recipient: recipient, clientMessageID: Array(forged.hash.prefix(16)),
                                acceptedAtMilliseconds: 1, envelope: envelope.encodedBytes),
                    quota: 100
                )
                try await ticket.durable()
            }
        }
        _ = try await party.relay.store.appendRoomStatement(
            room: "#team", epoch: membership.epoch + 1, statement: try #require(forgedByMallory).serialized, members: ["alice", "bob", "mallory"]
        )
        // Reconnect alice and bob so they read the injected statements from their queues.
        var events: [String: EventCollector] = [:]
        var clients: [String: ChatClient] = [:]
        for name in ["alice", "bob"] {
            await party[name].close()
            let client = try ChatClient.open(home: party.homes[name]!, passphrase: "test passphrase")
            let collector = EventCollector()
            await collector.follow(client)
            try await client.start()
            events[name] = collector
            clients[name] = client
        }
        for name in ["alice", "bob"] {
            #expect(await events[name]!.wait { await $0.warnings.filter { $0.contains("refused a membership change") }.count >= 2 })
            #expect(try await clients[name]!.members(of: "#team").usernames == ["alice", "bob"])
        }
        // The relay fans alice's next message out to mallory too: mallory cannot read it.
        try await clients["alice"]!.sendToRoom("#team", text: "not for mallory")
        #expect(await events["bob"]!.wait { await $0.messages.contains { $0.text == "not for mallory" } })
        #expect(await party.events["mallory"]!.wait { await !$0.warnings.isEmpty })
        #expect(await party.events["mallory"]!.messages.allSatisfy { $0.text != "not for mallory" })
        for client in clients.values { await client.stop() }
        await party.stop()
    }

    @Test("hostile room deliveries from the relay are refused with a warning, and the room goes on")
    func hostileRoomDeliveries() async throws {
        let party = try await Party.start(["alice", "bob"])
        try await party["alice"].createRoom("#team")
        try await party["alice"].invite("bob", to: "#team")
        #expect(await party.events["bob"]!.wait { await $0.messages.contains { $0.membership?.member == "bob" } })
        await party["bob"].close()

        let random = SeededRandomSource(seed: "hostile room deliveries")
        var otherRoom = WireRoomEnvelope()
        otherRoom.room = "#other"
        otherRoom.groupMessage = Data(random.bytes(100))
        var garbageMessage = WireRoomEnvelope()
        garbageMessage.room = "#team"
        garbageMessage.groupMessage = Data(random.bytes(300))
        var empty = WireRoomEnvelope()
        empty.room = "#team"
        let statement = try await party["alice"].members(of: "#team")
        var tooLong = WireRoomEnvelope()
        tooLong.room = "#team"
        tooLong.chain = RoomChain.wire(Array(repeating: try RoomStatement.sign(
            room: "#team", epoch: statement.epoch + 1, previousHash: statement.headHash, action: .leave,
            author: "alice", identity: party["alice"].identity
        ), count: RoomChain.maxStatements + 1))
        let hostile: [(String, [UInt8])] = [
            ("#team", random.bytes(64)), ("#team", otherRoom.encodedBytes), ("#team", garbageMessage.encodedBytes),
            ("#team", empty.encodedBytes), ("#team", tooLong.encodedBytes), ("#Bad!", garbageMessage.encodedBytes),
        ]
        for (index, (sender, envelope)) in hostile.enumerated() {
            let ticket = try await party.relay.store.enqueue(
                NewEnvelope(sender: sender, recipient: "bob", clientMessageID: [UInt8](repeating: UInt8(index + 1), count: 16),
                            acceptedAtMilliseconds: 1, envelope: envelope),
                quota: 100
            )
            try await ticket.durable()
        }
        try await party["alice"].sendToRoom("#team", text: "still fine")
        let bob = try ChatClient.open(home: party.homes["bob"]!, passphrase: "test passphrase")
        let events = EventCollector()
        await events.follow(bob)
        try await bob.start()
        #expect(await events.wait { await $0.messages.contains { $0.text == "still fine" } })
        #expect(await events.warnings.count >= hostile.count)
        #expect(try await bob.members(of: "#team").usernames == ["alice", "bob"])
        await bob.stop()
        await party.stop()
    }
}
