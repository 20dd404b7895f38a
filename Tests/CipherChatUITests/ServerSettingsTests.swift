import Foundation
import Logging
import Testing

@testable import cipherchat

@Suite("cipherchat server's settings: flags, environment, configuration file")
struct ServerSettingsTests {
    private static let file = """
        # a comment, then a blank line

        port = 7000
        metrics-port = 9100
        host = "0.0.0.0"
        log-level = warning
        queue-ttl-days = 7
        """

    private func resolve(
        _ arguments: [String], environment: [String: String] = [:], file: String? = nil
    ) throws(ServerSettingsError) -> ServerSettings {
        try ServerSettingsResolver.resolve(arguments: arguments, environment: environment) { path in
            guard path == "relay.conf", let file else { throw CocoaError(.fileNoSuchFile) }
            return file
        }
    }

    @Test("defaults, when nothing is given")
    func defaults() throws {
        let settings = try resolve([])
        #expect(settings.server.port == 7443)
        #expect(settings.server.metricsHost == "127.0.0.1")
        #expect(settings.server.metricsPort == 9090)
        #expect(settings.logLevel == .info)
        #expect(settings.server.relay.queueTTLSeconds == 30 * 86_400)
    }

    @Test("the PROXY protocol: on only with the balancers named, from a flag or the environment")
    func proxyProtocol() throws {
        #expect(try resolve([]).server.proxyProtocolSources.isEmpty)
        let settings = try resolve(["--proxy-protocol", "v2", "--proxy-from", "10.0.0.5, fd00::/8"])
        #expect(settings.server.proxyProtocolSources.map(\.description) == ["10.0.0.5/32", "fd00::/8"])
        let fromEnvironment = try resolve([], environment: ["CIPHERCHAT_PROXY_PROTOCOL": "v2", "CIPHERCHAT_PROXY_FROM": "172.30.0.10"])
        #expect(fromEnvironment.server.proxyProtocolSources.map(\.description) == ["172.30.0.10/32"])
        #expect(throws: ServerSettingsError("proxy-protocol v2 needs proxy-from: the balancers allowed to name a client's address")) {
            try resolve(["--proxy-protocol", "v2"])
        }
        #expect(throws: ServerSettingsError("proxy-from is only read with proxy-protocol v2")) {
            try resolve(["--proxy-from", "10.0.0.5"])
        }
        #expect(throws: ServerSettingsError("invalid value '10.0.0.0/40' for proxy-from (from --proxy-from)")) {
            try resolve(["--proxy-protocol", "v2", "--proxy-from", "10.0.0.0/40"])
        }
        #expect(throws: ServerSettingsError("invalid value 'v1' for proxy-protocol (from --proxy-protocol)")) {
            try resolve(["--proxy-protocol", "v1", "--proxy-from", "10.0.0.5"])
        }
    }

    @Test("a flag wins over the environment, the environment over the file, the file over the default")
    func precedence() throws {
        let settings = try resolve(
            ["--config", "relay.conf", "--port", "1"],
            environment: ["CIPHERCHAT_PORT": "2", "CIPHERCHAT_METRICS_PORT": "3"], file: Self.file
        )
        #expect(settings.server.port == 1)
        #expect(settings.server.metricsPort == 3)
        #expect(settings.server.host == "0.0.0.0")
        #expect(settings.logLevel == .warning)
        #expect(settings.server.relay.queueTTLSeconds == 7 * 86_400)
        #expect(settings.server.dataDirectory == "cipherchat-data")
    }

    @Test("CIPHERCHAT_CONFIG names the file; --config wins over it")
    func configurationFromEnvironment() throws {
        let settings = try resolve([], environment: ["CIPHERCHAT_CONFIG": "relay.conf"], file: Self.file)
        #expect(settings.server.port == 7000)
        #expect(throws: ServerSettingsError.self) {
            try resolve(["--config", "missing.conf"], environment: ["CIPHERCHAT_CONFIG": "relay.conf"], file: Self.file)
        }
    }

    @Test("--key=value, and the last of a repeated flag")
    func flagForms() throws {
        let settings = try resolve(["--port=5", "--host", "::1", "--port", "6", "--tls-cert", "c.pem", "--tls-key=k.pem"])
        #expect(settings.server.port == 6)
        #expect(settings.server.host == "::1")
        #expect(settings.server.tlsCertificateFile == "c.pem")
        #expect(settings.server.tlsKeyFile == "k.pem")
    }

    @Test("refused, with a message that says where", arguments: [
        (["--config", "relay.conf"], [:], "port = 1\nlisten = 2\n", "relay.conf:2: unknown setting 'listen'"),
        (["--config", "relay.conf"], [:], "port = 1\nport = 2\n", "relay.conf:2: 'port' was already set on line 1"),
        (["--config", "relay.conf"], [:], "port 1\n", "relay.conf:1: expected 'key = value'"),
        (["--config", "relay.conf"], [:], "config = other.conf\n", "relay.conf:1: unknown setting 'config'"),
        (["--config", "relay.conf"], [:], "host = \"unterminated\n", "relay.conf:1: the quoted value of 'host' does not end with a quote"),
        (["--listen", "1"], [:], "", "unknown option '--listen' (see cipherchat server --help)"),
        (["--port"], [:], "", "missing value for '--port'"),
        (["--port", "many"], [:], "", "invalid value 'many' for port (from --port)"),
        ([], ["CIPHERCHAT_MESSAGES_PER_SECOND": "-1"], "", "invalid value '-1' for messages-per-second (from CIPHERCHAT_MESSAGES_PER_SECOND)"),
        ([], ["CIPHERCHAT_LOG_LEVEL": "loud"], "", "invalid value 'loud' for log-level (from CIPHERCHAT_LOG_LEVEL)"),
        (["--tls-cert", "c.pem"], [:], "", "give both tls-cert and tls-key, or neither"),
        (["--metrics-port", "70000"], [:], "", "metrics-port must be at most 65535"),
    ] as [([String], [String: String], String, String)])
    func refusals(arguments: [String], environment: [String: String], file: String, message: String) {
        #expect(throws: ServerSettingsError(message)) {
            try resolve(arguments, environment: environment, file: file)
        }
    }

    @Test("every setting has its flag, variable and key, and docs/DEPLOY.md's table lists it")
    func documented() throws {
        let deploy = URL(filePath: #filePath).deletingLastPathComponent().appending(path: "../../docs/DEPLOY.md").standardizedFileURL
        let text = try String(contentsOf: deploy, encoding: .utf8)
        let keys = ServerSetting.all.map(\.key)
        #expect(Set(keys).count == keys.count, "a key appears twice")
        for setting in ServerSetting.all {
            #expect(
                text.contains("| `\(setting.flag)` | `\(setting.environmentVariable)` | `\(setting.key)` |"),
                "docs/DEPLOY.md has no table row for \(setting.key)"
            )
        }
    }
}
