import Foundation
import Testing

// 200 clients fit the time the brief allows: in debug on two shared cores the test takes
// about 85 to 105 s, half of it in the 200 `init`s (RSA key generation).
@Suite("Many clients at once", .timeLimit(.minutes(15)))
struct ManyClientsTests {
    static let clientCount = 200
    static let messagesPerSender = 2
    /// `init` is mostly RSA key generation: more at once would only queue for the cores.
    static let initParallelism = 8
    static let messageParallelism = 16

    private struct Outgoing: Sendable {
        let sender: UserHome
        let recipient: String
        let text: String
    }

    @Test("200 clients in 100 pairs: every message arrives exactly once")
    func everyMessageExactlyOnce() async throws {
        let relay = try await RelayProcess(arguments: ["--max-connections-per-address", "1000"])
        let endpoint = try relay.requireEndpoint()
        let users = try (0..<Self.clientCount).map { try UserHome(String(format: "user%03d", $0)) }
        _ = try await concurrentMap(users, limit: Self.initParallelism) { user in
            try await user.initialize(on: endpoint).requireSuccess()
        }

        // Pairs (0, 1), (2, 3), ...: the first sends, the second receives. A sender's messages
        // are adjacent in the list, so its two `send`s run at the same time.
        let pairs = stride(from: 0, to: users.count - 1, by: 2).map { (sender: users[$0], receiver: users[$0 + 1]) }
        let outgoing = pairs.flatMap { pair in
            (1...Self.messagesPerSender).map { number in
                Outgoing(
                    sender: pair.sender, recipient: pair.receiver.username,
                    text: "\(pair.sender.username) to \(pair.receiver.username) #\(number)"
                )
            }
        }
        _ = try await concurrentMap(outgoing, limit: Self.messageParallelism) { message in
            try await message.sender.send(message.text, to: message.recipient)
        }
        let inboxes = try await concurrentMap(pairs.map(\.receiver), limit: Self.messageParallelism) { receiver in
            try await receiver.receive()
        }

        let problems = zip(pairs, inboxes).compactMap { pair, inbox in
            Self.problem(with: inbox, of: pair.receiver.username, from: pair.sender.username, expecting: outgoing)
        }
        #expect(problems.isEmpty, "\(problems.count) of \(pairs.count) receivers did not get exactly their messages:\n\(problems.joined(separator: "\n"))")
    }

    /// What is wrong with `receiver`'s inbox, if anything: every message `sender` sent it,
    /// once each, and nothing else.
    private static func problem(with inbox: [ReceivedMessage], of receiver: String, from sender: String, expecting outgoing: [Outgoing]) -> String? {
        let expected = Set(outgoing.filter { $0.recipient == receiver }.map(\.text))
        let texts = inbox.map(\.text)
        let missing = expected.subtracting(texts).sorted()
        let unexpected = Set(texts).subtracting(expected).sorted()
        let repeated = texts.count - Set(texts).count
        let misaddressed = inbox.filter { $0.from != sender || $0.to != receiver }.count
        guard !missing.isEmpty || !unexpected.isEmpty || repeated > 0 || misaddressed > 0 else { return nil }
        return "\(receiver): missing \(missing), unexpected \(unexpected), \(repeated) repeated, \(misaddressed) misaddressed"
    }
}
