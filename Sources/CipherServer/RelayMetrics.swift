import CipherCore
import CipherRelay
import Logging
import Prometheus

/// The relay's metrics, kept in a Prometheus registry and written out in its text format at
/// `/metrics`. Counters are bumped as things happen (`RelayObserver`: atomic increments, no
/// allocation); the gauges of current state are read when scraped (`update`). Every metric is
/// made here with help text, since promtool refuses metrics without HELP lines. Names follow
/// Prometheus's conventions: a `cipherchat_` prefix, base units, `_total` on counters; labels
/// come from fixed sets only.
public final class RelayMetrics: RelayObserver {
    public let registry = PrometheusCollectorRegistry()

    private let openConnections: Gauge
    private let loggedInUsers: Gauge
    private let queuedEnvelopes: Gauge
    private let accepted: Counter
    private let delivered: Counter
    private let acknowledged: Counter
    private let expired: Counter
    private let bytesIn: Counter
    private let bytesOut: Counter
    private let deliveryLatency: DurationHistogram
    private let limitRejections: [RelayLimit: Counter]
    private let authenticationFailures: [AuthenticationFailure: Counter]
    private let fileBytes: [FileTransferDirection: Counter]
    private let malformedFrames: Counter
    private let storeErrors: [StoreOperation: Counter]
    private let storeAvailable: Gauge
    private let storeFailures: StoreFailureLog

    /// Upper bounds of the delivery latency buckets: from a push to an online recipient (about
    /// a millisecond) to a queue read after days offline.
    static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5), .seconds(30),
        .seconds(300), .seconds(3600), .seconds(86_400),
    ]

    /// Store failures are logged on `logger`, at the error level (rate-limited per operation).
    public init(logger: Logger = Logger(label: "cipherchat.server")) {
        storeFailures = StoreFailureLog(logger: logger)
        let registry = self.registry
        func gauge(_ name: String, _ help: String) -> Gauge {
            registry.makeGauge(descriptor: Self.descriptor(name, unit: "", help))
        }
        func counter(_ name: String, _ help: String, labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: Self.descriptor(name, unit: "total", help), labels: labels)
        }
        // The usual Prometheus build-info form: always 1, the version in a label.
        registry.makeGauge(
            descriptor: Self.descriptor("build_info", unit: "", "The running relay's release, in the version label; always 1."),
            labels: [("version", ProductVersion.current)]
        ).set(Int64(1))
        openConnections = gauge("connections_open", "Client connections open now, logged in or not.")
        loggedInUsers = gauge("users_logged_in", "Users with at least one logged-in connection now.")
        queuedEnvelopes = gauge("queued_envelopes", "Envelopes in the store's queues, not yet acknowledged or expired.")
        accepted = counter("envelopes_accepted", "Envelopes accepted into a queue (duplicates not counted).")
        delivered = counter("envelopes_delivered", "Envelopes sent to a recipient's connection, repeats after a reconnect included.")
        acknowledged = counter("envelopes_acknowledged", "Deliveries acknowledged by their recipient and removed from the queue.")
        expired = counter("envelopes_expired", "Envelopes deleted unacknowledged after the queue's time to live.")
        let bytesHelp = "Envelope bytes relayed: in = accepted from senders, out = sent to recipients."
        bytesIn = counter("relayed_bytes", bytesHelp, labels: [("direction", "in")])
        bytesOut = counter("relayed_bytes", bytesHelp, labels: [("direction", "out")])
        deliveryLatency = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "delivery_latency", unit: "seconds",
                "Time from accepting an envelope to sending it to the recipient, in milliseconds' resolution."
            ),
            buckets: Self.latencyBuckets
        )
        let limitHelp = "Requests and connections refused by a limit, by limit."
        limitRejections = Dictionary(uniqueKeysWithValues: RelayLimit.allCases.map { limit in
            (limit, counter("limit_rejections", limitHelp, labels: [("limit", limit.rawValue)]))
        })
        let authenticationHelp = "Logins and registrations refused, by reason."
        authenticationFailures = Dictionary(uniqueKeysWithValues: AuthenticationFailure.allCases.map { reason in
            (reason, counter("authentication_failures", authenticationHelp, labels: [("reason", reason.rawValue)]))
        })
        let fileBytesHelp = "File chunk bytes (ciphertext): in = stored from uploaders, out = sent to downloaders."
        fileBytes = Dictionary(uniqueKeysWithValues: FileTransferDirection.allCases.map { direction in
            (direction, counter("file_bytes", fileBytesHelp, labels: [("direction", direction.rawValue)]))
        })
        malformedFrames = counter("malformed_frames", "Frames that did not decode as a client frame, or held no request.")
        let storeErrorsHelp = "Store operations that failed, by what the relay was doing."
        storeErrors = Dictionary(uniqueKeysWithValues: StoreOperation.allCases.map { operation in
            (operation, counter("store_errors", storeErrorsHelp, labels: [("operation", operation.rawValue)]))
        })
        storeAvailable = gauge("store_available", "1 when the store answered the last scrape's read in time, else 0.")
        storeAvailable.set(Int64(1))
    }

    private static func descriptor(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "cipherchat", metricName: name, unitName: unit, helpText: help)
    }

    // MARK: RelayObserver

    public func envelopeAccepted(bytes: Int) {
        accepted.increment()
        bytesIn.increment(by: Int64(bytes))
    }

    public func envelopeDelivered(bytes: Int, latencyMilliseconds: UInt64) {
        delivered.increment()
        bytesOut.increment(by: Int64(bytes))
        deliveryLatency.record(.milliseconds(Int64(clamping: latencyMilliseconds)))
    }

    public func fileChunkTransferred(bytes: Int, direction: FileTransferDirection) {
        fileBytes[direction]?.increment(by: Int64(bytes))
    }

    public func envelopesAcknowledged(count: Int) {
        if count > 0 { acknowledged.increment(by: Int64(count)) }
    }

    public func envelopesExpired(count: Int) {
        expired.increment(by: Int64(count))
    }

    public func limitHit(_ limit: RelayLimit) {
        limitRejections[limit]?.increment()
    }

    public func authenticationFailed(_ reason: AuthenticationFailure) {
        authenticationFailures[reason]?.increment()
    }

    public func malformedFrame() {
        malformedFrames.increment()
    }

    public func storeError(_ operation: StoreOperation, _ error: any Error) {
        storeErrors[operation]?.increment()
        storeFailures.record(operation, error)
    }

    // MARK: Scraping

    /// Sets the gauges of current state; `queued` is nil when the store did not answer (the
    /// queue gauge keeps its last value, the store counts as unavailable and the failure as a
    /// store error).
    func update(openConnections: Int, loggedInUsers: Int, queued: Int?) {
        self.openConnections.set(Int64(openConnections))
        self.loggedInUsers.set(Int64(loggedInUsers))
        storeAvailable.set(Int64(queued == nil ? 0 : 1))
        if let queued { queuedEnvelopes.set(Int64(queued)) } else { storeErrors[.maintenance]?.increment() }
    }

    /// The exposition in Prometheus's text format (version 0.0.4).
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
