#if os(Linux)  // the host is found through /proc/self/exe
import Foundation
import Testing

/// Plain mode as a script would use it: commands piped in, lines read back from the output.
@Suite("Plain mode, end to end through pipes", .enabled(if: ChatHost.directory == nil))
struct PlainChatTests {
    @Test("piped commands run in order; output and errors go to their streams; the end of input quits")
    func pipedCommands() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "cipherchat-plain-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = FileManager.default.createFile(atPath: directory.appending(path: "inbox").path, contents: nil)
        let input = directory.appending(path: "stdin")
        try Data("/who\n/msg bob hello there\n/msg nobody hi\na line for the current conversation\n".utf8).write(to: input)
        let output = directory.appending(path: "stdout")
        let errors = directory.appending(path: "stderr")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["--testing-library", "swift-testing", "--filter", "ChatHost"]
        process.environment = ProcessInfo.processInfo.environment.merging(
            [ChatHost.directoryVariable: directory.path]) { $1 }
        process.standardInput = try FileHandle(forReadingFrom: input)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do { try process.run() } catch { exited.resume(throwing: error) }
        }

        let lines = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init)
        let errorText = try String(contentsOf: errors, encoding: .utf8)
        let time = try Regex(#"^\[\d\d:\d\d\] "#)
        #expect(lines.allSatisfy { $0.prefixMatch(of: time) != nil })
        // /who's answer and the send's run side by side: either may be printed first.
        #expect(lines.map { $0.dropFirst(8) }.sorted() == [
            "-!- bob    fedcba9876543210  ✓ verified",
            "-!- carol  0123456789abcdef  unverified",
            "alice -> bob: hello there",
        ])
        #expect(errorText.contains("error: not sent to nobody (\"hi\"): no such user"))
        #expect(errorText.contains("error: not sent to nobody (\"a line for the curr…\"): no such user"))
        let sent = try String(contentsOf: directory.appending(path: "outbox"), encoding: .utf8)
        #expect(sent == "send bob hello there\n")
    }
}
#endif
