import Foundation

/// The `cipherchat` executable that `swift test` built beside the test bundle.
enum CipherBinary {
    /// How many directories above the test bundle's own to look in.
    private static let levelsToSearch = 4

    static let located: Result<URL, HarnessError> = locate()

    /// The executable, or a failure that says where it was looked for.
    static func url() throws -> URL {
        try located.get()
    }

    private static func locate() -> Result<URL, HarnessError> {
        let launchPath = ProcessInfo.processInfo.arguments.first ?? ""
        let current = URL(filePath: FileManager.default.currentDirectoryPath, directoryHint: .isDirectory)
        var directory = URL(filePath: launchPath, relativeTo: current).standardizedFileURL.deletingLastPathComponent()
        var searched: [String] = []
        for _ in 0...levelsToSearch {
            let candidate = directory.appending(path: "cipherchat")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return .success(candidate) }
            searched.append(directory.path)
            directory = directory.deletingLastPathComponent()
        }
        return .failure(HarnessError(
            "no cipherchat executable beside the test bundle (\(launchPath)); looked in: \(searched.joined(separator: ", ")). "
                + "Run the tests with 'swift test', which builds it."
        ))
    }
}

extension CipherBinary {
    /// The package's root directory, for the scripts and examples the tests run.
    static let packageRoot = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// This process's environment without any CIPHERCHAT_ setting of the person running the
    /// tests, plus `settings`.
    static func environment(_ settings: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CIPHERCHAT_") }
        environment.merge(settings) { _, new in new }
        return environment
    }
}
