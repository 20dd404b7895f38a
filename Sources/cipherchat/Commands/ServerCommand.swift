import ArgumentParser
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a relay: it stores and forwards ciphertext only.",
        discussion: """
            Listens with TLS 1.3 only. Without --tls-cert/--tls-key it makes a self-signed \
            certificate in the data directory on first start and reuses it. When ready it prints \
            one line: 'listening on HOST:PORT tls-sha256=HEX'; clients pin that fingerprint. \
            Stops cleanly on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 7443

    @Option(help: "Data directory: the SQLite store, the certificate, the security log.")
    var data = "cipherchat-data"

    @Option(help: "TLS certificate chain (PEM), with --tls-key.")
    var tlsCert: String?

    @Option(help: "TLS private key (PEM), with --tls-cert.")
    var tlsKey: String?

    @Option(help: "Largest frame in bytes; a larger one closes the connection.")
    var maxFrameSize = RelayConfiguration().maxFrameSize

    @Option(help: "Messages per second one connection may send (token bucket rate).")
    var messagesPerSecond = RelayConfiguration().messagesPerSecond

    @Option(help: "Burst of messages one connection may send at once.")
    var messageBurst = RelayConfiguration().messageBurst

    @Option(help: "Connections from one address.")
    var maxConnectionsPerAddress = RelayConfiguration().maxConnectionsPerAddress

    @Option(help: "Connections in total.")
    var maxConnections = RelayConfiguration().maxConnections

    @Option(help: "Envelopes one recipient's queue may hold.")
    var queueQuota = RelayConfiguration().queueQuota

    @Option(help: "Days an undelivered envelope is kept.")
    var queueTtlDays = 30

    @Option(help: "Directory for uploaded files' encrypted chunks (default: blobs in the data directory); relays may share one.")
    var blobDir: String?

    @Option(help: "Largest file one upload may carry, in bytes.")
    var maxFileSize = RelayConfiguration().maxFileSize

    @Option(help: "Bytes of files one user may have stored on the relay at once.")
    var blobQuota = RelayConfiguration().blobQuota

    @Option(help: "Days an uploaded file is kept when not every recipient has fetched it.")
    var blobTtlDays = 7

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    func validate() throws {
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("give both --tls-cert and --tls-key, or neither") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() async throws {
        try await runReportingFailures {
            var logger = Logger(label: "cipherchat.server")
            logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var configuration = ServerConfiguration(dataDirectory: data)
            configuration.host = host
            configuration.port = port
            configuration.tlsCertificateFile = tlsCert
            configuration.tlsKeyFile = tlsKey
            configuration.relay.maxFrameSize = maxFrameSize
            configuration.relay.messagesPerSecond = messagesPerSecond
            configuration.relay.messageBurst = messageBurst
            configuration.relay.maxConnectionsPerAddress = maxConnectionsPerAddress
            configuration.relay.maxConnections = maxConnections
            configuration.relay.queueQuota = queueQuota
            configuration.relay.queueTTLSeconds = UInt64(queueTtlDays) * 86_400
            configuration.blobDirectory = blobDir
            configuration.relay.maxFileSize = maxFileSize
            configuration.relay.blobQuota = blobQuota
            configuration.relay.blobTTLSeconds = UInt64(blobTtlDays) * 86_400

            let store = try SQLiteRelayStore(path: (data as NSString).appendingPathComponent("relay.sqlite"))
            let server = try await RelayServer(
                configuration: configuration, store: store, securityLog: try FileSecurityLog(directory: data), logger: logger
            )
            print(server.readyLine)
            fflush(nil)
            let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) {
                Task { await server.shutdown() }
            }
            try await server.run()
            signals.cancel()
            try await store.close()
            logger.info("relay stopped")
        }
    }
}

/// Calls `handler` when one of `signals` arrives (their default action is disabled). Unchecked
/// Sendable: the sources are set up in init and only cancelled after.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
