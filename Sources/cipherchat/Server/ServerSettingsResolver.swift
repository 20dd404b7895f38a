import Foundation

/// A setting that could not be taken: the message names where it came from.
struct ServerSettingsError: Error, Equatable, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Resolves `cipherchat server`'s settings from its flags, the `CIPHERCHAT_*` environment and the
/// configuration file: a flag wins over the environment, the environment over the file, the
/// file over the default.
enum ServerSettingsResolver {
    /// The flag and variable that name the configuration file; not a key inside it.
    static let configurationFlag = "--config"
    static let configurationVariable = "CIPHERCHAT_CONFIG"

    static func resolve(
        arguments: [String], environment: [String: String], readFile: (String) throws -> String = readTextFile
    ) throws(ServerSettingsError) -> ServerSettings {
        let settings = ServerSetting.all
        let byKey = Dictionary(uniqueKeysWithValues: settings.map { ($0.key, $0) })
        let flags = try parseFlags(arguments, known: byKey)

        var resolved = ServerSettings()
        if let path = flags.configuration ?? environment[configurationVariable] {
            let text: String
            do {
                text = try readFile(path)
            } catch {
                throw ServerSettingsError("cannot read the configuration file \(path): \(error.localizedDescription)")
            }
            let file = try ConfigurationFile(parsing: text, name: path)
            for entry in file.entries {
                guard let setting = byKey[entry.key] else {
                    throw ServerSettingsError("\(path):\(entry.line): unknown setting '\(entry.key)'")
                }
                try apply(setting, entry.value, to: &resolved, source: "\(path):\(entry.line)")
            }
        }
        for setting in settings {
            if let value = environment[setting.environmentVariable] {
                try apply(setting, value, to: &resolved, source: setting.environmentVariable)
            }
        }
        for (setting, value) in flags.values {
            try apply(setting, value, to: &resolved, source: setting.flag)
        }
        try validate(resolved)
        if resolved.proxyProtocol == .v2 { resolved.server.proxyProtocolSources = resolved.proxyFrom }
        return resolved
    }

    static func readTextFile(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    private static func apply(_ setting: ServerSetting, _ value: String, to settings: inout ServerSettings, source: String) throws(ServerSettingsError) {
        guard setting.apply(&settings, value) else {
            throw ServerSettingsError("invalid value '\(value)' for \(setting.key) (from \(source))")
        }
    }

    /// `--key value` or `--key=value`, in order; a later flag wins over an earlier one.
    private static func parseFlags(
        _ arguments: [String], known: [String: ServerSetting]
    ) throws(ServerSettingsError) -> (values: [(ServerSetting, String)], configuration: String?) {
        var values: [(ServerSetting, String)] = []
        var configuration: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw ServerSettingsError("unexpected argument '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            } else if arguments.index(after: index) < arguments.endIndex {
                index = arguments.index(after: index)
                value = arguments[index]
            }
            guard "--\(name)" == configurationFlag || known[name] != nil else {
                throw ServerSettingsError("unknown option '--\(name)' (see cipherchat server --help)")
            }
            guard let value else { throw ServerSettingsError("missing value for '--\(name)'") }
            if "--\(name)" == configurationFlag {
                configuration = value
            } else {
                values.append((known[name]!, value))
            }
            index = arguments.index(after: index)
        }
        return (values, configuration)
    }

    private static func validate(_ settings: ServerSettings) throws(ServerSettingsError) {
        guard (settings.server.tlsCertificateFile == nil) == (settings.server.tlsKeyFile == nil) else {
            throw ServerSettingsError("give both tls-cert and tls-key, or neither")
        }
        switch (settings.proxyProtocol, settings.proxyFrom.isEmpty) {
        case (.v2, true): throw ServerSettingsError("proxy-protocol v2 needs proxy-from: the balancers allowed to name a client's address")
        case (.off, false): throw ServerSettingsError("proxy-from is only read with proxy-protocol v2")
        default: break
        }
        for (key, port) in [("port", settings.server.port), ("metrics-port", settings.server.metricsPort)] where port > 65_535 {
            throw ServerSettingsError("\(key) must be at most 65535")
        }
    }
}
