import Foundation
import Synchronization

@testable import cipherchat

/// A `ChatBackend` for the end-to-end terminal tests, run inside the test binary when it is
/// started as the chat host (`ChatHost`). It talks to the test that drives it through two files
/// in a shared directory:
///
/// - `inbox`, which the test appends lines to, each one an event:
///   `message FROM TO verified|unverified TEXT`, `connected`, `disconnected SECONDS`,
///   `warning TEXT`;
/// - `outbox`, where every send is recorded as `send TO TEXT`.
///
/// Sends to `nobody` fail; `/verify` accepts `12345`; the contacts are bob (verified) and carol.
final class ScriptedBackend: ChatBackend {
    struct NoSuchUser: Error, LocalizedError {
        var errorDescription: String? { "no such user" }
    }

    let username: String
    let events: AsyncStream<ChatEvent>
    private let continuation: AsyncStream<ChatEvent>.Continuation
    private let outbox: URL
    private let outboxLock = Mutex(())

    init(directory: URL, username: String) {
        self.username = username
        self.outbox = directory.appending(path: "outbox")
        (events, continuation) = AsyncStream.makeStream(of: ChatEvent.self)
        let inbox = directory.appending(path: "inbox")
        Task { [continuation] in
            var consumed = 0
            while !Task.isCancelled {
                let lines = Self.lines(in: inbox, after: &consumed)
                for line in lines { if let event = Self.event(line) { continuation.yield(event) } }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func send(to user: String, text: String) async throws -> ChatMessage {
        guard user != "nobody" else { throw NoSuchUser() }
        record("send \(user) \(text)")
        let now = Date()
        return ChatMessage(id: UUID().uuidString, from: username, to: user, sentAt: now, receivedAt: now, text: text, verified: false)
    }

    private func record(_ entry: String) {
        outboxLock.withLock { _ in
            let line = Data("\(entry)\n".utf8)
            if let handle = try? FileHandle(forWritingTo: outbox) {
                _ = try? handle.seekToEnd()
                handle.write(line)
                try? handle.close()
            } else {
                try? line.write(to: outbox)
            }
        }
    }

    func contacts() async throws -> [ChatContact] {
        [
            ChatContact(username: "bob", shortFingerprint: "fedcba9876543210", verified: true),
            ChatContact(username: "carol", shortFingerprint: "0123456789abcdef", verified: false),
        ]
    }

    func verify(_ user: String, safetyNumber: String) async throws -> Bool { safetyNumber == "12345" }

    func trust(_ user: String, confirming confirmation: String) async throws {}

    /// Records `file TO PATH` in the outbox and reports the file by its size on disk.
    func sendFile(to user: String, path: String) async throws -> SentFile {
        guard user != "nobody" else { throw NoSuchUser() }
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.uint64Value ?? 0
        record("file \(user) \(path)")
        return SentFile(name: (path as NSString).lastPathComponent, size: size, id: "00112233445566778899aabbccddeeff")
    }

    /// Complete lines added to `file` since `consumed` bytes.
    private static func lines(in file: URL, after consumed: inout Int) -> [String] {
        guard let data = try? Data(contentsOf: file), data.count > consumed,
            let end = data.lastIndex(of: UInt8(ascii: "\n")), end >= consumed
        else { return [] }
        let text = String(decoding: data[consumed..<end], as: UTF8.self)
        consumed = end + 1
        return text.split(separator: "\n").map(String.init)
    }

    private static func event(_ line: String) -> ChatEvent? {
        let words = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        switch words.first {
        case "message" where words.count == 5:
            let now = Date()
            return .message(
                ChatMessage(
                    id: UUID().uuidString, from: words[1], to: words[2], sentAt: now, receivedAt: now, text: words[4],
                    verified: words[3] == "verified"))
        case "connected": return .connection(.connected)
        case "disconnected" where words.count == 2: return .connection(.disconnected(retryInSeconds: Double(words[1]) ?? 1))
        case "warning": return .warning(words.dropFirst().joined(separator: " "))
        default: return nil
        }
    }
}
