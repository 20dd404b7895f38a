import CipherClient
import CipherCore
import Foundation

/// The relay's resident memory per idle, authenticated TLS connection, read from the child's
/// /proc/PID/status before and after the connections are opened and logged in. The clients
/// live in this process: at 10,000 they stay well under its 20,000 descriptors, and the
/// relay, in its own process, holds the other end.
struct IdleConnectionFigures: Codable, Sendable {
    var requested: Int
    var held: Int
    var users: Int
    var openingSeconds: Double
    var relayResidentBeforeKiB: Int
    var relayResidentAfterKiB: Int
    var relayKiBPerConnection: Double
    /// Descriptors the relay holds after opening (from /proc/PID/fd), to confirm `held`.
    var relayOpenDescriptors: Int
    /// This process's growth per client connection, for comparison (client side of TLS).
    var clientKiBPerConnection: Double
}

enum IdleConnectionBench {
    static func run(
        relay: RelayChildProcess, identity: PrivateIdentity, connections: Int, budget: Duration, progress: (String) -> Void
    ) async throws -> IdleConnectionFigures {
        // A hundred connections per user: users need a registration (a durable write each);
        // a user may be logged in on many connections, each its own RelayConnection.
        let users = (0..<max(1, connections / 100)).map { "idle\($0)" }
        progress("registering \(users.count) users")
        for name in users {
            let link = try await RelayLink.connect(host: relay.host, port: relay.port, trust: relay.trust)
            _ = try await link.authenticate(.register, username: name, identity: identity)
            await link.close()
        }
        // Warm the relay's allocator, TLS context and tables before the baseline reading.
        for index in 0..<50 { await login(relay: relay, username: users[index % users.count], identity: identity)?.close() }
        try await Task.sleep(for: .seconds(1))
        let before = relay.residentKiB()
        let ownBefore = RelayChildProcess.residentKiB(pid: nil)

        progress("opening and logging in \(connections) idle connections")
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: budget)
        var links: [RelayLink] = []
        links.reserveCapacity(connections)
        let concurrency = 32
        await withTaskGroup(of: RelayLink?.self) { group in
            var started = 0
            func startNext() {
                guard started < connections, clock.now < deadline else { return }
                let name = users[started % users.count]
                started += 1
                group.addTask { await login(relay: relay, username: name, identity: identity) }
            }
            for _ in 0..<concurrency { startNext() }
            while let link = await group.next() {
                if let link { links.append(link) }
                startNext()
            }
        }
        let openingSeconds = start.duration(to: clock.now).seconds
        try await Task.sleep(for: .seconds(2))
        let after = relay.residentKiB()
        let ownAfter = RelayChildProcess.residentKiB(pid: nil)
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(relay.pid)/fd").count) ?? -1
        let held = links.count
        progress("closing \(held) connections")
        for link in links { await link.close() }
        guard held > 0 else { throw BenchFailure(description: "no idle connection could be opened") }
        return IdleConnectionFigures(
            requested: connections, held: held, users: users.count, openingSeconds: openingSeconds,
            relayResidentBeforeKiB: before, relayResidentAfterKiB: after,
            relayKiBPerConnection: Double(after - before) / Double(held),
            relayOpenDescriptors: descriptors,
            clientKiBPerConnection: Double(ownAfter - ownBefore) / Double(held)
        )
    }

    /// A logged-in link, or nil when the relay refused or the connection failed.
    private static func login(relay: RelayChildProcess, username: String, identity: PrivateIdentity) async -> RelayLink? {
        guard let link = try? await RelayLink.connect(host: relay.host, port: relay.port, trust: relay.trust) else { return nil }
        do {
            _ = try await link.authenticate(.login, username: username, identity: identity)
            return link
        } catch {
            await link.close()
            return nil
        }
    }
}
