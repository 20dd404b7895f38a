import Foundation
import Testing

/// The fuzz corpora replayed as ordinary tests: every file of Fuzz/Corpus/TARGET goes through
/// the same entry points as the libFuzzer target TARGET (FuzzEntryPoints, the folder beside this
/// file, is a link to Fuzz/Sources/FuzzEntryPoints). A seed made from the protocol vectors
/// (`vector-*`) must be accepted, and those below must go all the way (decrypted, opened,
/// applied), or the fuzzers could spend their time on inputs a broken harness refuses at once.
/// Every file, an input a fuzzer once crashed on (`regression-*`) included, must run to its end
/// and leave every check of its target holding.
@Suite("Fuzz corpora")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")

    /// Seeds that reach the end of their target's path with the fixtures of FuzzEntryPoints.
    static let completing: [FuzzTarget: Set<String>] = [
        .sessionMessages: ["vector-bundle", "vector-bundle-without-one-time-prekey", "vector-handshake-envelope"],
        .group: [
            "vector-group-message", "vector-room-statement-create", "vector-room-statement-invite", "vector-room-chain",
            "vector-sender-key-distribution",
        ],
        .files: ["vector-chunks"],
        .sealedContainer: ["vector-scrypt-whole", "vector-scrypt-checksum-appended"],
        .proxyHeader: ["vector-tcp4", "vector-tcp6", "vector-tcp4-tlv", "vector-local"],
    ]

    static func files(of target: FuzzTarget) throws -> [URL] {
        let directory = corpus.appendingPathComponent(target.rawValue)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test("every corpus file replays through its target's entry points", arguments: FuzzTarget.allCases)
    func replay(target: FuzzTarget) throws {
        let files = try Self.files(of: target)
        let names = Set(files.map(\.lastPathComponent))
        #expect(Self.completing[target, default: []].isSubset(of: names), "\(target.rawValue): a seed named here is missing")
        #expect(files.contains { $0.lastPathComponent.hasPrefix("vector-") }, "\(target.rawValue) has no seed from the vectors")
        for file in files {
            let name = file.lastPathComponent
            let outcome = target.run(Array(try Data(contentsOf: file)))
            #expect(outcome.violations.isEmpty, "\(target.rawValue)/\(name): \(outcome.violations)")
            if name.hasPrefix("vector-") {
                #expect(outcome.accepted, "\(target.rawValue)/\(name): the seed is refused")
            }
            if Self.completing[target, default: []].contains(name) {
                #expect(outcome.completed, "\(target.rawValue)/\(name): the seed does not go all the way")
            }
        }
    }
}
