import Foundation
import Testing

@Suite("The command's version")
struct VersionTests {
    @Test("cipherchat --version prints the release and exits 0")
    func version() async throws {
        let directory = try TemporaryDirectory(prefix: "version")
        let result = try await ChildProcess.run(
            CipherBinary.url(), ["--version"], environment: CipherBinary.environment(),
            outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess()
        #expect(result.outputLines == ["0.9.0"], "\(result)")
    }
}

@Suite("Help text")
struct HelpTextTests {
    @Test("server --help's settings and chat --help's commands stay in their columns: no line wraps back to column 0", arguments: [
        ("server", "Settings:"), ("chat", "Commands:"),
    ])
    func listsKeepTheirIndent(command: String, heading: String) async throws {
        let directory = try TemporaryDirectory(prefix: "help")
        let result = try await ChildProcess.run(
            CipherBinary.url(), [command, "--help"], environment: CipherBinary.environment(),
            outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess()
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0 == heading }, "\(result)")
        let list = lines[(start + 1)...].prefix { !$0.isEmpty }
        #expect(list.count > 10, "\(result)")
        #expect(list.allSatisfy { $0.hasPrefix("  ") && $0.count < 80 }, "\(list.joined(separator: "\n"))")
        if command == "chat" { #expect(list.contains { $0.contains("/file TO PATH") }) }
    }
}
