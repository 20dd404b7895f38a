import CipherClient
import CipherCore
import CipherWire
import Foundation
import Synchronization

/// Delivered-and-decrypted messages per second through a relay in a child process, and the
/// relay's own CPU time per message read from /proc.
struct ThroughputFigure: Codable, Sendable {
    var pairs: Int
    var inFlightPerSender: Int
    /// Why the run stopped short, when the relay stopped answering; the figures below then
    /// cover only what was delivered before.
    var stalled: String?
    var measuredSeconds = 0.0
    var delivered = 0
    var messagesPerSecond = 0.0
    /// The relay child's user + system CPU over the window, per delivered message.
    var relayCPUMicrosecondsPerMessage = 0.0
    /// This process (every sender and receiver: encrypt, decrypt, TLS, framing) per message.
    var clientsCPUMicrosecondsPerMessage = 0.0
    /// Relay CPU over wall time: 1.0 is one core busy.
    var relayCoresBusy = 0.0
    var clientCoresBusy = 0.0
    /// From just before a send to its delivery at the receiver, for the messages sent in the
    /// window: the relay's queueing under this load included.
    var deliveryLatencyMedianMilliseconds: Double?
    var deliveryLatencyP99Milliseconds: Double?
}

/// The send instant of each message in flight, by client message id, and the delivery
/// latencies of those sent while recording.
private final class LatencyRecorder: Sendable {
    private let state = Mutex<(sentAt: [Data: ContinuousClock.Instant], latencies: [Duration], recording: Bool)>(([:], [], false))

    func sending(_ clientMessageID: Data) {
        let now = ContinuousClock.now
        state.withLock { $0.sentAt[clientMessageID] = now }
    }

    func delivered(_ clientMessageID: Data) {
        let now = ContinuousClock.now
        state.withLock { state in
            guard let sentAt = state.sentAt.removeValue(forKey: clientMessageID) else { return }
            if state.recording { state.latencies.append(sentAt.duration(to: now)) }
        }
    }

    func record(_ on: Bool) { state.withLock { $0.recording = on } }

    /// p50 and p99 in milliseconds, when anything was recorded.
    func percentiles() -> (p50: Double, p99: Double)? {
        let sorted = state.withLock { $0.latencies }.map { Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1e3 }.sorted()
        guard !sorted.isEmpty else { return nil }
        func at(_ fraction: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] }
        return (at(0.5), at(0.99))
    }
}

/// One sender's session: envelopes are made in order here; several tasks then send them.
private actor SendingSession {
    private var session: Session
    private let random = SystemRandomSource()
    private let content = [UInt8](repeating: UInt8(ascii: "m"), count: RatchetBench.payloadBytes)

    init(_ session: Session) { self.session = session }

    func nextEnvelope() throws -> [UInt8] {
        try session.encrypt(Payload(kind: .text, content: content, sentAtMilliseconds: 1_700_000_000_000, random: random))
    }
}

enum RelayThroughputBench {
    /// Sessions are made locally with the bench's two identities (the relay never sees
    /// them); each pair's users register on the relay with those identities.
    static func run(
        relay: RelayDeployment, parties: BenchParties, pairs: Int, inFlight: Int, warmUp: Duration, window: Duration,
        runID: String
    ) async throws -> ThroughputFigure {
        let delivered = BenchCounter()
        let latencies = LatencyRecorder()
        let stop = BenchStopFlag()
        var links: [RelayLink] = []
        defer { for link in links { Task { await link.close() } } }
        var work: [Task<Void, any Error>] = []
        for index in 0..<pairs {
            let (senderSession, receiverSession) = try establishedSessions(parties: parties)
            let senderName = "t\(runID)s\(index)"
            let receiverName = "t\(runID)r\(index)"
            let (host, port, trust) = (relay.host, relay.port, relay.trust)
            do {
                let sender = try await within(.seconds(10), "connecting") { try await RelayLink.connect(host: host, port: port, trust: trust) }
                links.append(sender)
                let receiver = try await within(.seconds(10), "connecting") { try await RelayLink.connect(host: host, port: port, trust: trust) }
                links.append(receiver)
                _ = try await within(.seconds(10), "registering") { try await sender.authenticate(.register, username: senderName, identity: parties.alice) }
                _ = try await within(.seconds(10), "registering") { try await receiver.authenticate(.register, username: receiverName, identity: parties.bob) }
            } catch let failure as BenchFailure {
                // The relay stopped answering (docs/BENCHMARKS-RELAY.md: the store's deadlock).
                stop.set()
                for link in links { await link.close() }
                return ThroughputFigure(pairs: pairs, inFlightPerSender: inFlight, stalled: "\(failure) with \(index) pairs sending")
            }
            let sender = links[links.count - 2]
            let receiver = links[links.count - 1]
            let sending = SendingSession(senderSession)
            work.append(Task {
                var session = receiverSession
                for await event in receiver.events {
                    guard case .delivery(let delivery) = event else { continue }
                    let payload = try session.decrypt(try SessionEnvelope(serialized: delivery.envelope), random: parties.random)
                    guard payload.content.count == RatchetBench.payloadBytes else { throw BenchFailure(description: "bad payload") }
                    delivered.increment()
                    latencies.delivered(delivery.clientMessageID)
                    var acknowledge = WireAcknowledge()
                    acknowledge.deliveryIds = [delivery.deliveryID]
                    try await receiver.post(.acknowledge(acknowledge))
                }
            })
            for _ in 0..<inFlight {
                work.append(Task {
                    let random = SystemRandomSource()
                    while !stop.isSet {
                        var send = WireSendEnvelope()
                        send.recipient = receiverName
                        send.clientMessageID = Data(random.bytes(16))
                        send.envelope = Data(try await sending.nextEnvelope())
                        latencies.sending(send.clientMessageID)
                        let reply = try await sender.request(.send(send))
                        guard case .sendAccepted = reply.body else { throw BenchFailure(description: "send refused") }
                    }
                })
            }
        }
        let clock = ContinuousClock()
        try await Task.sleep(for: warmUp)
        let startTime = clock.now
        let startCount = delivered.current
        let startRelay = relay.cpuSeconds()
        let startOwn = ownCPUSeconds()
        latencies.record(true)
        try await Task.sleep(for: window)
        latencies.record(false)
        let elapsed = startTime.duration(to: clock.now).seconds
        let count = delivered.current - startCount
        let countBeforeEnd = delivered.current
        try await Task.sleep(for: .milliseconds(500))
        let stalled = delivered.current == countBeforeEnd
        let relayCPU = relay.cpuSeconds() - startRelay
        let ownCPU = ownCPUSeconds() - startOwn
        stop.set()
        // Senders stop after their message in flight; receivers end when their links close.
        try? await Task.sleep(for: .milliseconds(300))
        for link in links { await link.close() }
        links.removeAll()
        for task in work {
            do { try await task.value } catch where !(error is BenchFailure) {}
        }
        return ThroughputFigure(
            pairs: pairs, inFlightPerSender: inFlight,
            stalled: stalled ? "no delivery in the 0.5 s after the window: the relay stopped answering" : nil,
            measuredSeconds: elapsed, delivered: count,
            messagesPerSecond: Double(count) / elapsed,
            relayCPUMicrosecondsPerMessage: relayCPU / Double(count) * 1e6,
            clientsCPUMicrosecondsPerMessage: ownCPU / Double(count) * 1e6,
            relayCoresBusy: relayCPU / elapsed, clientCoresBusy: ownCPU / elapsed,
            deliveryLatencyMedianMilliseconds: latencies.percentiles()?.p50,
            deliveryLatencyP99Milliseconds: latencies.percentiles()?.p99
        )
    }


    /// A pair of sessions after the handshake and one reply, so the sender sends plain
    /// ratchet envelopes.
    private static func establishedSessions(parties: BenchParties) throws -> (sender: Session, receiver: Session) {
        let content = [UInt8](repeating: UInt8(ascii: "m"), count: RatchetBench.payloadBytes)
        var sender = try Session.initiate(
            identity: parties.alice, signedPrekey: parties.aliceSignedPrekey, bundle: parties.bobBundle, random: parties.random
        )
        let first = try sender.encrypt(Payload(kind: .text, content: content, sentAtMilliseconds: 0, random: parties.random))
        var receiver = try HandshakeBench.acceptSession(parties: parties, envelope: first).session
        let reply = try receiver.encrypt(Payload(kind: .text, content: content, sentAtMilliseconds: 0, random: parties.random))
        _ = try sender.decrypt(try SessionEnvelope(serialized: reply), random: parties.random)
        guard !sender.isAwaitingReply else { throw BenchFailure(description: "the sender still sends prekey messages") }
        return (sender, receiver)
    }
}
