import CipherClient
import CipherCore
import CipherWire
import Foundation
import Synchronization

/// Room messages delivered per second through a relay in a child process: a room of
/// `members` users, `senders` of them sending group messages as fast as the relay accepts
/// them, every member's connection receiving and acknowledging its copies.
struct RoomFanOutFigure: Codable, Sendable {
    var members: Int
    var senders: Int
    var inFlightPerSender: Int
    var stalled: String?
    var measuredSeconds = 0.0
    /// Room messages the relay accepted from the senders (each fans out to members - 1).
    var sent = 0
    /// Copies received by members' connections.
    var delivered = 0
    var deliveredPerSecond = 0.0
    var sentPerSecond = 0.0
    var relayCPUMicrosecondsPerDelivery = 0.0
    var clientsCPUMicrosecondsPerDelivery = 0.0
    var relayCoresBusy = 0.0
    var clientCoresBusy = 0.0
    /// What one member's client spends to verify and decrypt one room message (Ed25519 verify
    /// and AES-256-GCM), measured alone in this process: the receiving side's own ceiling.
    var memberDecryptMicrosecondsPerMessage = 0.0
}

/// One sender's chain: messages are made in order here; several tasks send them.
private actor SendingChain {
    private var chain: SenderChain
    private let payload: Payload

    init(_ chain: SenderChain, payload: Payload) {
        self.chain = chain
        self.payload = payload
    }

    func next() throws -> [UInt8] { try chain.encrypt(payload) }
}

enum RoomFanOutBench {
    static let room = "#bench"
    static let payloadBytes = 100

    static func run(
        relay: RelayChildProcess, identity: PrivateIdentity, members: Int, senders: Int, inFlight: Int,
        warmUp: Duration, window: Duration, progress: @escaping @Sendable (String) -> Void
    ) async throws -> RoomFanOutFigure {
        let delivered = BenchCounter()
        let sent = BenchCounter()
        let stop = BenchStopFlag()
        let names = (0..<members).map { "member\($0)" }
        var links: [RelayLink] = []
        defer { for link in links { Task { await link.close() } } }
        var work: [Task<Void, any Error>] = []
        let (host, port, trust) = (relay.host, relay.port, relay.trust)
        for name in names {
            let link = try await within(.seconds(10), "connecting") { try await RelayLink.connect(host: host, port: port, trust: trust) }
            links.append(link)
            _ = try await within(.seconds(10), "registering") { try await link.authenticate(.register, username: name, identity: identity) }
            work.append(Task { try await receive(on: link, counting: delivered) })
        }

        progress("creating \(room) with \(members) members")
        var statement = try RoomStatement.sign(
            room: room, epoch: 1, previousHash: RoomStatement.genesisPreviousHash, action: .create, author: names[0], identity: identity
        )
        var membership = try RoomMembership(creation: statement)
        try await submit(statement, on: links[0])
        for name in names.dropFirst() {
            statement = try RoomStatement.sign(
                room: room, epoch: membership.epoch + 1, previousHash: membership.headHash, action: .invite, author: names[0],
                identity: identity, subject: name, subjectFingerprint: identity.publicIdentity.fingerprint
            )
            membership = try membership.applying(statement)
            try await submit(statement, on: links[0])
        }

        let random = SystemRandomSource()
        let payload = Payload(
            kind: .text, content: [UInt8](repeating: UInt8(ascii: "m"), count: payloadBytes), sentAtMilliseconds: 1_700_000_000_000, random: random
        )
        for index in 0..<senders {
            let link = links[index]
            let chain = SendingChain(try SenderChain.generate(room: room, owner: identity.publicIdentity.fingerprint, random: random), payload: payload)
            for _ in 0..<inFlight {
                work.append(Task {
                    let random = SystemRandomSource()
                    while !stop.isSet {
                        var send = WireRoomSend()
                        send.room = room
                        send.clientMessageID = Data(random.bytes(16))
                        send.groupMessage = Data(try await chain.next())
                        let reply = try await link.request(.roomSend(send))
                        guard case .sendAccepted = reply.body else { throw BenchFailure(description: "room send refused") }
                        sent.increment()
                    }
                })
            }
        }

        let clock = ContinuousClock()
        try await Task.sleep(for: warmUp)
        let startTime = clock.now
        let (startDelivered, startSent) = (delivered.current, sent.current)
        let startRelay = relay.cpuSeconds()
        let startOwn = ownCPUSeconds()
        try await Task.sleep(for: window)
        let elapsed = startTime.duration(to: clock.now).seconds
        let count = delivered.current - startDelivered
        let sentCount = sent.current - startSent
        let relayCPU = relay.cpuSeconds() - startRelay
        let ownCPU = ownCPUSeconds() - startOwn
        let countBeforeEnd = delivered.current
        try await Task.sleep(for: .milliseconds(500))
        let stalled = delivered.current == countBeforeEnd
        stop.set()
        try? await Task.sleep(for: .milliseconds(300))
        for link in links { await link.close() }
        links.removeAll()
        for task in work {
            do { try await task.value } catch where !(error is BenchFailure) {}
        }
        return RoomFanOutFigure(
            members: members, senders: senders, inFlightPerSender: inFlight,
            stalled: stalled ? "no delivery in the 0.5 s after the window: the relay stopped answering" : nil,
            measuredSeconds: elapsed, sent: sentCount, delivered: count,
            deliveredPerSecond: Double(count) / elapsed, sentPerSecond: Double(sentCount) / elapsed,
            relayCPUMicrosecondsPerDelivery: relayCPU / Double(max(count, 1)) * 1e6,
            clientsCPUMicrosecondsPerDelivery: ownCPU / Double(max(count, 1)) * 1e6,
            relayCoresBusy: relayCPU / elapsed, clientCoresBusy: ownCPU / elapsed,
            memberDecryptMicrosecondsPerMessage: try memberDecryptCost(identity: identity, payload: payload)
        )
    }

    private static func submit(_ statement: RoomStatement, on link: RelayLink) async throws {
        var wire = WireRoomChange()
        wire.statement = statement.wire
        let change = wire
        let reply = try await within(.seconds(30), "a membership change") { try await link.request(.roomChange(change)) }
        guard case .roomChangeAccepted = reply.body else { throw BenchFailure(description: "membership change refused") }
    }

    /// Counts the group messages among the deliveries (membership statements arrive too), and
    /// acknowledges in batches, well inside the relay's bound of unacknowledged deliveries.
    private static func receive(on link: RelayLink, counting delivered: BenchCounter) async throws {
        var unacknowledged: [UInt64] = []
        for await event in link.events {
            guard case .delivery(let delivery) = event else { continue }
            let envelope = try WireRoomEnvelope(boundedBytes: delivery.envelope, maxSize: RoomChain.maxSerializedSize)
            if case .groupMessage = envelope.body { delivered.increment() }
            unacknowledged.append(delivery.deliveryID)
            if unacknowledged.count >= 128 {
                var acknowledge = WireAcknowledge()
                acknowledge.deliveryIds = unacknowledged
                unacknowledged.removeAll(keepingCapacity: true)
                try await link.post(.acknowledge(acknowledge))
            }
        }
    }

    /// The median cost of verifying and decrypting one room message, over 2000 messages.
    private static func memberDecryptCost(identity: PrivateIdentity, payload: Payload) throws -> Double {
        let random = SystemRandomSource()
        var chain = try SenderChain.generate(room: room, owner: identity.publicIdentity.fingerprint, random: random)
        var received = try ReceivedSenderChain(chain.distribution, from: identity.publicIdentity.fingerprint)
        let messages = try (0..<2000).map { _ in try GroupMessage(serialized: chain.encrypt(payload)) }
        let clock = ContinuousClock()
        let start = clock.now
        for message in messages { _ = try received.decrypt(message) }
        return start.duration(to: clock.now).seconds / Double(messages.count) * 1e6
    }
}
