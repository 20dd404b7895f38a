import CipherServer
import Foundation
import Logging

/// Everything `cipherchat server` is told before it starts: the server's configuration and
/// what only the process needs. Each field is set by one `ServerSetting`.
struct ServerSettings {
    var server = ServerConfiguration(dataDirectory: "cipherchat-data")
    var logLevel = Logger.Level.info
    /// The relay's store on PostgreSQL instead of SQLite in the data directory.
    var postgresURL: String?
    /// How long one PostgreSQL store operation may take before `store_unavailable`.
    var storeTimeoutSeconds: UInt64 = 5
    /// Whether connections from `proxyFrom` begin with a PROXY protocol header.
    var proxyProtocol = ProxyProtocolVersion.off
    /// The balancers allowed to send one; the resolver copies them into `server` when the
    /// protocol is on.
    var proxyFrom: [AddressRange] = []

    /// The queue's time to live in whole days, as operators think of it.
    var queueTTLDays: UInt64 {
        get { server.relay.queueTTLSeconds / 86_400 }
        set { server.relay.queueTTLSeconds = newValue * 86_400 }
    }

    /// The blobs' time to live in whole days.
    var blobTTLDays: UInt64 {
        get { server.relay.blobTTLSeconds / 86_400 }
        set { server.relay.blobTTLSeconds = newValue * 86_400 }
    }
}

/// The PROXY protocol versions the relay reads.
enum ProxyProtocolVersion: String, SettingValue {
    case off
    case v2

    init?(settingText: String) { self.init(rawValue: settingText) }
    var settingText: String { rawValue }
}

extension [AddressRange]: SettingValue {
    init?(settingText: String) {
        var ranges: [AddressRange] = []
        for part in settingText.split(separator: ",") {
            guard let range = AddressRange(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            ranges.append(range)
        }
        guard !ranges.isEmpty else { return nil }
        self = ranges
    }

    var settingText: String { isEmpty ? "(none)" : map(\.description).joined(separator: ",") }
}

extension ServerSetting {
    /// Every setting of `cipherchat server`, in the order `--help` and docs/DEPLOY.md list them.
    /// Adding a setting is adding its line here: the flag, the environment variable and the
    /// configuration-file key all follow from the key.
    static var all: [ServerSetting] {
        [
            .value("host", \.server.host, "Address to listen on."),
            .value("port", \.server.port, "Port to listen on (0 picks a free one)."),
            .value("data", \.server.dataDirectory, "Data directory: the SQLite store, the certificate, the security log."),
            .value("postgres", \.postgresURL, "Store on PostgreSQL instead of SQLite, at postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE, optionally with ?sslmode=disable, prefer or require: several instances on one database form one service.", environment: "CIPHERCHAT_POSTGRES_URL"),
            .value("store-timeout-seconds", \.storeTimeoutSeconds, "Seconds one PostgreSQL store operation may take, waiting for a connection included, before the request is answered store_unavailable."),
            .value("tls-cert", \.server.tlsCertificateFile, "TLS certificate chain (PEM), with tls-key."),
            .value("tls-key", \.server.tlsKeyFile, "TLS private key (PEM), with tls-cert."),
            .value("metrics-host", \.server.metricsHost, "Address of the listener for /metrics, /healthz and /readyz."),
            .value("metrics-port", \.server.metricsPort, "Port of that listener (0 picks a free one)."),
            .value("log-level", \.logLevel, "Log level: trace, debug, info, notice, warning, error, critical."),
            .value("max-frame-size", \.server.relay.maxFrameSize, "Largest frame in bytes; a larger one closes the connection."),
            .value("messages-per-second", \.server.relay.messagesPerSecond, "Messages per second one connection may send (token bucket rate)."),
            .value("message-burst", \.server.relay.messageBurst, "Burst of messages one connection may send at once."),
            .value("proxy-protocol", \.proxyProtocol, "v2 to read a PROXY protocol version 2 header (HAProxy's send-proxy-v2) at the start of every connection from proxy-from, so limits and the security log see the client's address; off by default."),
            .value("proxy-from", \.proxyFrom, "Comma-separated addresses or CIDR blocks of the balancers that send the PROXY header; connections from elsewhere are clients' own."),
            .value("max-connections-per-address", \.server.relay.maxConnectionsPerAddress, "Connections from one address."),
            .value("max-connections", \.server.relay.maxConnections, "Connections in total."),
            .value("queue-quota", \.server.relay.queueQuota, "Envelopes one recipient's queue may hold."),
            .value("queue-quota-per-sender", \.server.relay.queueQuotaPerSender, "Of those, envelopes from one sender (a user, or a room): its share, so one sender cannot fill a queue."),
            .value("queue-ttl-days", \.queueTTLDays, "Days an undelivered envelope is kept."),
            .value("blob-dir", \.server.blobDirectory, "Directory for uploaded files' encrypted chunks (default: blobs in the data directory); instances on one PostgreSQL database must share one."),
            .value("max-file-size", \.server.relay.maxFileSize, "Largest file one upload may carry, in bytes."),
            .value("blob-quota", \.server.relay.blobQuota, "Bytes of files one user may have stored on the relay at once."),
            .value("blob-ttl-days", \.blobTTLDays, "Days an uploaded file is kept when not every recipient has fetched it."),
            .value("max-unacknowledged-deliveries", \.server.relay.maxUnacknowledgedDeliveries, "Deliveries sent to one connection and not yet acknowledged before pushes pause."),
            .value("authentication-timeout-seconds", \.server.relay.authenticationTimeoutSeconds, "Seconds a connection may stay without logging in."),
            .value("shutdown-grace-seconds", \.server.shutdownGraceSeconds, "Seconds clients get to hang up after GoingAway when the relay stops."),
        ]
    }
}
