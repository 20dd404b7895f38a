import ArgumentParser
import CipherCore
import CipherPostgres
import CipherRelay
import CipherServer
import CipherSQLite
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "server",
        abstract: "Run a relay: it stores and forwards ciphertext only.",
        discussion: """
            Listens with TLS 1.3 only. Without --tls-cert/--tls-key it makes a self-signed \
            certificate in the data directory on first start and reuses it. When ready it prints \
            two lines: 'listening on HOST:PORT tls-sha256=HEX' (clients pin that fingerprint), then \
            'metrics on HOST:PORT', the plain-HTTP listener for /metrics, /healthz and /readyz. \
            On SIGINT or SIGTERM it stops accepting, sends GoingAway to connected clients, gives \
            them --shutdown-grace-seconds to hang up, closes the store and exits 0: the whole stop \
            ends within the grace period, abandoning store work that a database that is down \
            cannot finish. On PostgreSQL each store operation has a 5 s deadline: what the store \
            cannot do then is refused with the retryable error store_unavailable.

            Every setting is a flag '--KEY VALUE', an environment variable CIPHERCHAT_KEY (upper \
            case, dashes as underscores) or a line 'KEY = VALUE' in the file of --config FILE \
            (or CIPHERCHAT_CONFIG); a flag wins over the environment, the environment over the \
            file. Unknown keys are an error.

            \(ServerSetting.helpText)
            """
    )

    @Argument(
        parsing: .allUnrecognized,
        help: ArgumentHelp("Settings as '--KEY VALUE' (listed below), and --config FILE.", valueName: "settings")
    )
    var settingArguments: [String] = []

    func run() async throws {
        try await runReportingFailures {
            let settings: ServerSettings
            do {
                settings = try ServerSettingsResolver.resolve(arguments: settingArguments, environment: ProcessInfo.processInfo.environment)
            } catch let error as ServerSettingsError {
                throw CommandFailure.usage(error.description)
            }
            try await serve(settings)
        }
    }

    private func serve(_ settings: ServerSettings) async throws {
        let level = settings.logLevel
        // Logs go to standard error: standard output carries only the ready lines.
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "cipherchat.server")
        logger.info("starting cipherchat \(ProductVersion.current)")
        let configuration = settings.server
        let data = configuration.dataDirectory
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // It holds the TLS key, the security log and (on SQLite) the store: no other user may
        // list or open anything in it, whatever mode an existing directory had.
        guard chmod(data, 0o700) == 0 else { throw ValidationError("cannot make \(data) private to its owner (chmod 0700)") }

        let store: any RelayStore
        if let url = settings.postgresURL {
            let location = try PostgresLocation(url: url)
            logger.info("storing on PostgreSQL", metadata: ["database": "\(location)"])
            if configuration.blobDirectory == nil {
                // Files' chunks are not in the database: a second instance on it without the
                // same directory cannot serve this one's files.
                logger.notice("files' chunks are kept in this instance's data directory; every instance on this database must share one --blob-dir")
            }
            store = try await PostgresRelayStore.connect(
                to: location, logger: logger, operationTimeout: .seconds(Int64(clamping: settings.storeTimeoutSeconds))
            )
        } else {
            store = try SQLiteRelayStore(path: (data as NSString).appendingPathComponent("relay.sqlite"))
        }
        let metrics = RelayMetrics(logger: logger)
        let securityLog = try FileSecurityLog(directory: data)
        let server = try await Self.binding("relay", host: configuration.host, port: configuration.port, flag: "--port") {
            try await RelayServer(configuration: configuration, store: store, securityLog: securityLog, logger: logger, observer: metrics)
        }
        let monitoring = try await Self.binding("monitoring", host: configuration.metricsHost, port: configuration.metricsPort, flag: "--metrics-port") {
            try await MonitoringServer(
                host: configuration.metricsHost, port: configuration.metricsPort,
                endpoints: MonitoringEndpoints(metrics: metrics, server: server, store: store), logger: logger
            )
        }
        // A graceful shutdown stops the services last to first: the relay drains while the
        // monitoring listener still answers /readyz with 503.
        let announcement = ReadyAnnouncement(lines: [server.readyLine, monitoring.readyLine])
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                announcement.configuration,
                .init(service: monitoring),
                .init(service: RelayServerService(server: server)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(Int64(configuration.shutdownGraceSeconds) + 2)
        try await ServiceGroup(configuration: groupConfiguration).run()
        // The store gets what is left of the grace period: a database that is down must not
        // hold the stop (postgres-nio retries connecting without end). Whatever was
        // acknowledged to a sender committed before; what is abandoned was not acknowledged.
        let deadline = server.stopDeadline ?? .now + .seconds(Int64(configuration.shutdownGraceSeconds))
        let closed = await Deadline.finishes(by: deadline) {
            do {
                try await store.close()
            } catch {
                logger.error("closing the store failed", metadata: ["error": "\(error)"])
            }
        }
        if !closed {
            logger.warning("the store did not close within the grace period; its unfinished work is abandoned")
        }
        logger.info("relay stopped")
    }
}

extension ServerSetting {
    /// The settings as `--help` lists them, with their variables and defaults.
    static var helpText: String {
        let defaults = ServerSettings()
        return "Settings:\n" + all.map { setting in
            HelpText.wrap("\(setting.flag) (\(setting.environmentVariable), default \(setting.text(defaults)))", firstIndent: 2, indent: 6)
                + "\n" + HelpText.wrap(setting.help, firstIndent: 6, indent: 6)
        }.joined(separator: "\n")
    }
}

extension ServerCommand {
    /// Opens a listener; a port already taken is said with the listener, its address and the
    /// flag that moves it, not as the system's bare "Address already in use".
    fileprivate static func binding<Listener>(
        _ name: String, host: String, port: Int, flag: String, _ open: () async throws -> Listener
    ) async throws -> Listener {
        do {
            return try await open()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw ValidationError("the \(name) listener cannot use \(host):\(port): another process is listening there; choose another port with \(flag)")
        }
    }
}
