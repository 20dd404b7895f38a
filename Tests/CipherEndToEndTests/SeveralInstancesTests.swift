import CipherServer
import CipherTesting
import Foundation
import Testing

/// Two relay instances on one PostgreSQL behind HAProxy, driven with the real binaries.
@Suite("Several relay instances on one PostgreSQL", RequiredTool.postgres.trait, RequiredTool.haproxy.trait, .timeLimit(.minutes(15)))
struct SeveralInstancesTests {
    /// How long a message pushed across instances may take to show on the recipient's screen
    /// (a wake-up normally brings it in milliseconds; the poll within a second). Generous for a
    /// machine running every suite at once; the wait ends as soon as the line shows.
    static let crossInstanceDeadline = Duration.seconds(30)

    @Test("a client on one instance reaches a client on the other at once; names and one-time prekeys hold across instances")
    func crossInstanceConversation() async throws {
        let service = try await SeveralInstances()
        let onFirst = try service.instances[0].requireEndpoint()
        let onSecond = try service.instances[1].requireEndpoint()
        #expect(onFirst.fingerprint == onSecond.fingerprint)
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: onFirst).requireSuccess()
        try await bob.initialize(on: onSecond).requireSuccess()

        // Bob stays connected to the second instance; Alice sends through the first.
        let outputs = try TemporaryDirectory(prefix: "follow")
        let loginsBefore = service.instances[1].successfulLogins
        let follower = try bob.follow(outputIn: outputs)
        defer { follower.signal(SIGKILL) }
        try await follower.waitUntilLoggedIn(on: service.instances[1], loginsBefore: loginsBefore)
        try await alice.send("hello from the first instance", to: "bob")
        let arrived = try await Self.waitForLines(of: follower, count: 1, within: Self.crossInstanceDeadline)
        #expect(arrived.map(\.text) == ["hello from the first instance"])

        try await bob.send("hello from the second", to: "alice")
        #expect(try await alice.receive().map(\.text) == ["hello from the second"])

        // First messages to Bob from new contacts on both instances at once: each takes one of
        // Bob's one-time prekeys, and Bob can open every one (a prekey handed out twice could
        // open only one session).
        let erin = try UserHome("erin")
        let frank = try UserHome("frank")
        try await erin.initialize(on: onFirst).requireSuccess()
        try await frank.initialize(on: onSecond).requireSuccess()
        follower.signal(SIGKILL)
        async let fromErin: Void = erin.send("erin through the first", to: "bob")
        async let fromFrank: Void = frank.send("frank through the second", to: "bob")
        _ = try await (fromErin, fromFrank)
        let firstContacts = try await bob.receive()
        #expect(Set(firstContacts.map(\.text)) == ["erin through the first", "frank through the second"])
        #expect(firstContacts.allSatisfy { $0.kind == "text" })

        // Another identity cannot take "bob" through the other instance, nor through HAProxy.
        for endpoint in [onFirst, try service.proxyEndpoint()] {
            let impostor = try UserHome("bob")
            let refused = try await impostor.initialize(on: endpoint)
            #expect(refused.status != 0, "a second identity registered bob: \(refused)")
        }
    }

    @Test("behind HAProxy each instance records the client's address (PROXY protocol v2), never the balancer's")
    func clientAddressThroughBalancer() async throws {
        let service = try await SeveralInstances()
        let carol = try UserHome("carol")
        try await carol.initialize(on: service.proxyEndpoint()).requireSuccess()
        let serving = try await service.instancesServing { _ = try await carol.receive() }
        #expect(serving.count == 1)
        var carolEvents = 0
        for instance in service.instances {
            let directory = instance.dataDirectory.path
            let pseudonyms = try FileSecurityLog(directory: directory)
            let lines = try String(contentsOfFile: directory + "/security.log", encoding: .utf8).split(separator: "\n")
            let events = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
            carolEvents += events.filter { $0["user"] == "carol" && $0["address"] == pseudonyms.pseudonym("127.0.0.1") }.count
            #expect(!events.contains { $0["address"] == pseudonyms.pseudonym(SeveralInstances.balancerAddress) })
        }
        // Her registration and her login, both through HAProxy.
        #expect(carolEvents >= 2)
    }

    @Test("one instance is killed mid-conversation: its clients reconnect through HAProxy; nothing lost or repeated")
    func instanceKilledMidConversation() async throws {
        let service = try await SeveralInstances()
        let proxy = try service.proxyEndpoint()
        let carol = try UserHome("carol")
        let dave = try UserHome("dave")
        try await carol.initialize(on: proxy).requireSuccess()
        try await dave.initialize(on: proxy).requireSuccess()

        // Round robin puts each command's connection on the other instance than the last, so
        // sends and receives cross instances all along. Each replies after reading, as people
        // do; two messages to Dave wait in the queue while an instance is killed.
        var toDave: [String] = []
        var toCarol: [String] = []
        var daveGot: [ReceivedMessage] = []
        var carolGot: [ReceivedMessage] = []
        for round in 1...6 {
            if round == 4 {
                let beforeTheKill = "carol to dave, queued before the kill"
                try await carol.send(beforeTheKill, to: "dave")
                toDave.append(beforeTheKill)
                try await service.instances[0].kill()
            }
            let fromCarol = "carol to dave \(round)"
            try await carol.send(fromCarol, to: "dave")
            toDave.append(fromCarol)
            daveGot += try await dave.receive()
            let fromDave = "dave to carol \(round)"
            try await dave.send(fromDave, to: "carol")
            toCarol.append(fromDave)
            carolGot += try await carol.receive()
        }

        #expect(daveGot.map(\.text) == toDave)
        #expect(carolGot.map(\.text) == toCarol)
        #expect(Set(daveGot.map(\.id)).count == daveGot.count, "repeated: \(daveGot.map(\.text))")
        #expect(Set(carolGot.map(\.id)).count == carolGot.count, "repeated: \(carolGot.map(\.text))")
        #expect(try await dave.receive().isEmpty)
    }

    /// The first `count` messages `recv --follow --json` printed, once it has printed them.
    private static func waitForLines(of follower: ChildProcess, count: Int, within timeout: Duration) async throws -> [ReceivedMessage] {
        try await follower.waitForOutputLines(within: timeout) { $0.count >= count }.prefix(count).map { try ReceivedMessage(jsonLine: $0) }
    }
}
