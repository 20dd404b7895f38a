import CipherRelay
import NIOHTTP1
import Synchronization

/// One answer of the monitoring listener.
public struct MonitoringResponse: Sendable {
    public let status: HTTPResponseStatus
    public let contentType: String
    public let body: [UInt8]

    static func json(_ status: HTTPResponseStatus, _ state: String) -> MonitoringResponse {
        // `state` comes from the fixed set below, so it needs no escaping.
        MonitoringResponse(status: status, contentType: "application/json", body: Array("{\"status\":\"\(state)\"}\n".utf8))
    }
}

/// What the monitoring listener answers, apart from HTTP:
/// - `/healthz`: 200 `{"status":"alive"}` while the process serves at all;
/// - `/readyz`: 200 `{"status":"ready"}` when the store answers and the relay is not stopping,
///   503 with `draining` or `store_unreachable` otherwise, so a load balancer sends new
///   clients elsewhere;
/// - `/metrics`: the Prometheus text exposition, its gauges read at that moment.
public struct MonitoringEndpoints: Sendable {
    private let metrics: RelayMetrics
    private let server: RelayServer
    private let store: any QueueStatistics

    /// How long the store may take to answer a readiness or metrics read.
    static let storeTimeout = Duration.seconds(2)

    public init(metrics: RelayMetrics, server: RelayServer, store: any QueueStatistics) {
        self.metrics = metrics
        self.server = server
        self.store = store
    }

    public func respond(method: HTTPMethod, uri: String) async -> MonitoringResponse {
        guard method == .GET || method == .HEAD else { return .json(.methodNotAllowed, "method_not_allowed") }
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        switch path {
        case "/healthz":
            return .json(.ok, "alive")
        case "/readyz":
            if server.isDraining { return .json(.serviceUnavailable, "draining") }
            guard await queuedEnvelopes() != nil else { return .json(.serviceUnavailable, "store_unreachable") }
            return .json(.ok, "ready")
        case "/metrics":
            metrics.update(
                openConnections: server.openConnections, loggedInUsers: server.service.registry.onlineUserCount,
                queued: await queuedEnvelopes()
            )
            return MonitoringResponse(status: .ok, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        default:
            return .json(.notFound, "not_found")
        }
    }

    /// The store's queue total, or nil when it failed or did not answer in time. The read runs
    /// in its own task, so that a store stuck in a call that ignores cancellation cannot hold
    /// the answer past the timeout.
    private func queuedEnvelopes() async -> Int? {
        let store = self.store
        let answer = FirstAnswer()
        return await withCheckedContinuation { continuation in
            answer.install(continuation)
            Task { answer.give(try? await store.totalQueuedEnvelopes()) }
            Task {
                try? await Task.sleep(for: Self.storeTimeout)
                answer.give(nil)
            }
        }
    }
}

/// Resumes a continuation with the first value given, and ignores the rest.
private final class FirstAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<Int?, Never>?>(nil)

    func install(_ continuation: CheckedContinuation<Int?, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func give(_ value: Int?) {
        continuation.withLock { waiting in
            waiting?.resume(returning: value)
            waiting = nil
        }
    }
}
