import Foundation
import Testing

@Suite("Rooms through a relay", .timeLimit(.minutes(15)))
struct RoomEndToEndTests {
    @Test("three users converse in a room; a joiner does not read the past; a removed member reads nothing after; no plaintext at the relay")
    func roomLifecycle() async throws {
        let relay = try await RelayProcess(arguments: ["--log-level", "trace"])
        let endpoint = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        let carol = try UserHome("carol")
        for user in [alice, bob, carol] { try await user.initialize(on: endpoint).requireSuccess() }
        let before = "BEFORE-CAROL-\(UUID().uuidString)"
        let afterRemoval = "AFTER-REMOVAL-\(UUID().uuidString)"
        let fromBob = "FROM-BOB-\(UUID().uuidString)"

        #expect(try await alice.room(["create", "#team"]).requireSuccess().outputLines == ["created #team"])
        #expect(try await alice.room(["create", "#team"]).status != 0)
        #expect(try await alice.room(["create", "#Team"]).status != 0)
        try await alice.room(["invite", "#team", "bob"]).requireSuccess()
        try await alice.send(before, to: "#team")

        let atBob = try await bob.receiveLines().lines
        #expect(atBob.map(\.kind) == ["membership", "text"])
        #expect(atBob.first?.action == "invite" && atBob.first?.member == "bob" && atBob.first?.from == "alice")
        #expect(atBob.last?.text == before && atBob.last?.room == "#team" && atBob.last?.from == "alice")

        // A non-admin cannot add anyone.
        #expect(try await bob.room(["invite", "#team", "carol"]).status != 0)
        try await alice.room(["invite", "#team", "carol"]).requireSuccess()
        // Bob catches up with carol's arrival before sending, and hands her his key.
        try await bob.send(fromBob, to: "#team")
        let atCarol = try await carol.receiveLines()
        #expect(atCarol.lines.filter { $0.kind == "text" }.map(\.text) == [fromBob], "carol got \(atCarol)")
        #expect(atCarol.lines.contains { $0.kind == "membership" && $0.member == "carol" })
        #expect(!atCarol.lines.contains { $0.text.contains(before) })
        #expect(try await alice.room(["members", "#team"]).requireSuccess().outputLines == ["alice admin", "bob", "carol"])
        #expect(try await carol.room(["list"]).requireSuccess().outputLines == ["#team"])
        #expect(try await alice.receiveLines().lines.filter { $0.kind == "text" }.map(\.text) == [fromBob])

        try await alice.room(["remove", "#team", "bob"]).requireSuccess()
        _ = try await carol.receiveLines()
        try await alice.send(afterRemoval, to: "#team")
        #expect(try await carol.receiveLines().lines.filter { $0.kind == "text" }.map(\.text) == [afterRemoval])
        let atBobAfter = try await bob.receiveLines()
        #expect(atBobAfter.lines.contains { $0.action == "remove" && $0.member == "bob" })
        #expect(!atBobAfter.lines.contains { $0.text.contains(afterRemoval) })
        #expect(try await bob.room(["list"]).requireSuccess().outputLines == [])
        #expect(try await bob.run("send", ["#team", "still here?"]).status != 0)

        try await carol.room(["leave", "#team"]).requireSuccess()
        #expect(try await alice.room(["members", "#team"]).requireSuccess().outputLines == ["alice admin"])

        let markers = [before, afterRemoval, fromBob]
        #expect(FileScan.findings(of: markers, in: FileScan.files(under: relay.dataDirectory)) == [])
        _ = try await relay.stop()
        #expect(FileScan.findings(of: markers, in: FileScan.files(under: relay.dataDirectory) + relay.logFiles) == [])
    }
}
