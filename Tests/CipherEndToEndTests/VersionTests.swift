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

@Suite("Shell completions and the manual")
struct CompletionAndManualTests {
    @Test("completion scripts for bash, zsh and fish name every command; bash's parses", arguments: ["bash", "zsh", "fish"])
    func completionScript(shell: String) async throws {
        let directory = try TemporaryDirectory(prefix: "completion")
        let result = try await ChildProcess.run(
            CipherBinary.url(), ["--generate-completion-script", shell], environment: CipherBinary.environment(),
            outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess()
        for command in ["init", "send", "recv", "chat", "daemon", "file", "room", "server", "history"] {
            #expect(result.standardOutput.contains(command), "\(shell) completion lacks \(command)")
        }
        if shell == "bash" {
            let script = directory.url.appending(path: "cipherchat.bash")
            try result.standardOutput.write(to: script, atomically: true, encoding: .utf8)
            let parsed = try await ChildProcess.run(
                URL(fileURLWithPath: "/bin/bash"), ["-n", script.path], environment: CipherBinary.environment(),
                outputDirectory: directory.url, timeout: .seconds(60)
            )
            #expect(parsed.status == 0, "\(parsed)")
        }
    }

    @Test("the help dump the manual pages are made from describes every command, with its discussion")
    func manualSource() async throws {
        let directory = try TemporaryDirectory(prefix: "manual")
        let result = try await ChildProcess.run(
            CipherBinary.url(), ["--experimental-dump-help"], environment: CipherBinary.environment(),
            outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess()
        let dump = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
        let root = try #require(dump["command"] as? [String: Any])
        let subcommands = try #require(root["subcommands"] as? [[String: Any]])
        let names = Set(subcommands.compactMap { $0["commandName"] as? String })
        #expect(names.isSuperset(of: ["init", "send", "recv", "chat", "daemon", "file", "room", "server", "history", "demo"]), "\(names)")
        let send = try #require(subcommands.first { $0["commandName"] as? String == "send" })
        #expect((send["discussion"] as? String)?.contains("outbox") == true)
    }
}
