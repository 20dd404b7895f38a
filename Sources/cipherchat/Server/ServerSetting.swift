import Logging

/// One setting of `cipherchat server`, given as the flag `--KEY VALUE`, the environment
/// variable `CIPHERCHAT_KEY` (upper case, dashes as underscores), or the line `KEY = VALUE` of
/// the configuration file; in that order of precedence, over the default.
struct ServerSetting {
    let key: String
    let help: String
    /// The value's text in `settings`: for `--help`, the default.
    let text: (ServerSettings) -> String
    /// Sets the value from its text; false when the text is not a valid value.
    let apply: (inout ServerSettings, String) -> Bool
    /// A variable name other than the one derived from the key, where a name is established.
    var environmentName: String? = nil

    var flag: String { "--\(key)" }

    var environmentVariable: String {
        environmentName ?? "CIPHERCHAT_" + key.uppercased().replacing("-", with: "_")
    }

    static func value<Value: SettingValue>(
        _ key: String, _ path: WritableKeyPath<ServerSettings, Value>, _ help: String, environment: String? = nil
    ) -> ServerSetting {
        ServerSetting(
            key: key, help: help,
            text: { $0[keyPath: path].settingText },
            apply: { settings, text in
                guard let value = Value(settingText: text) else { return false }
                settings[keyPath: path] = value
                return true
            },
            environmentName: environment
        )
    }
}

/// A type a setting can hold, written and read as text.
protocol SettingValue {
    init?(settingText: String)
    var settingText: String { get }
}

extension String: SettingValue {
    init?(settingText: String) {
        guard !settingText.isEmpty else { return nil }
        self = settingText
    }

    var settingText: String { self }
}

extension Int: SettingValue {
    init?(settingText: String) {
        guard let value = Int(settingText), value >= 0 else { return nil }
        self = value
    }

    var settingText: String { String(self) }
}

extension UInt64: SettingValue {
    init?(settingText: String) { self.init(settingText) }
    var settingText: String { String(self) }
}

extension Double: SettingValue {
    init?(settingText: String) {
        guard let value = Double(settingText), value.isFinite, value > 0 else { return nil }
        self = value
    }

    var settingText: String { String(self) }
}

extension Logger.Level: SettingValue {
    init?(settingText: String) { self.init(rawValue: settingText) }
    var settingText: String { rawValue }
}

/// An optional path: unset by default, and there is no way to unset it again but to leave the
/// setting out.
extension Optional: SettingValue where Wrapped == String {
    init?(settingText: String) {
        guard !settingText.isEmpty else { return nil }
        self = .some(settingText)
    }

    var settingText: String { self ?? "(none)" }
}
