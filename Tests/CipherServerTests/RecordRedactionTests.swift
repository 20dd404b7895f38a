import CipherClient
import Foundation
import Testing

/// Records that hold a secret show it nowhere: Swift prints a struct's stored properties, the
/// internal ones included, so a record interpolated into a log line would otherwise carry its key.
@Suite("Secrets in records are redacted", .serialized)
struct RecordRedactionTests {
    @Test("a file record, which holds the file key, prints no key in its description, debug description or dump")
    func fileRecordRedacts() async throws {
        let relay = try await TestRelay.start()
        let alice = try await relay.makeUser("alice")
        _ = try await relay.makeUser("bob")
        try await alice.start(receiving: false)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("redaction-\(UUID().uuidString).txt").path
        try Data("a file whose key must not be printed".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sent = try await alice.sendFile(at: path, to: "bob")
        var dumped = ""
        dump(sent, to: &dumped)
        for text in [String(describing: sent), String(reflecting: sent), dumped] {
            #expect(text.contains("<secret, "))
            // The id (32 hex digits) and the SHA-256 (64) are public; the offer, with its
            // 32-byte key, would be a run of hundreds.
            #expect(Self.longestHexRun(in: text) <= 64, "a long hex string in: \(text)")
        }
        await alice.stop()
        await relay.stop()
    }

    private static func longestHexRun(in text: String) -> Int {
        var longest = 0
        var current = 0
        for character in text {
            current = character.isHexDigit ? current + 1 : 0
            longest = max(longest, current)
        }
        return longest
    }
}
