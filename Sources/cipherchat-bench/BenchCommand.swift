import ArgumentParser
import CipherCore
import Foundation

/// `cipherchat-bench`: what the core's cryptography costs on this machine, and with its
/// subcommands the relay, rooms and files end to end. A program apart from `cipherchat`, so
/// that the shipped binary is the product alone; it measures only. `scripts/bench.sh` runs it
/// beside an OpenSSL baseline from the same run, and docs/BENCHMARKS.md records the figures
/// against the project's targets.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cipherchat-bench",
        abstract: "Measure AES-GCM, RSA key generation, the handshake, the ratchet and file encryption.",
        discussion: """
            Prints medians over repeated runs, each section bounded to a few seconds (about a \
            minute in all). Build with -c release: a debug build's figures mean nothing. \
            `cipherchat-bench relay` measures the relay and clients end to end, `cipherchat-bench \
            rooms` room fan-out, `cipherchat-bench files` file transfer through a relay. Those \
            three run the relay as `cipherchat server` in a child process: the `cipherchat` \
            built beside this program, or the one named by $CIPHERCHAT_BINARY.
            """,
        version: ProductVersion.current,
        subcommands: [RelayBenchCommand.self, RoomBenchCommand.self, FileBenchCommand.self]
    )

    enum Section: String, CaseIterable, ExpressibleByArgument, Sendable {
        case aes, keygen, primitives, handshake, ratchet, file
    }

    @Flag(help: "Few iterations: a smoke test whose figures are only indicative.")
    var quick = false

    @Flag(help: "Print one JSON object with every figure instead of the text report.")
    var json = false

    @Option(name: .customLong("swift-version"), help: "The toolchain's version line, recorded with the figures.")
    var swiftVersion: String?

    @Option(name: .customLong("only"), parsing: .upToNextOption, help: "Run only these sections.")
    var sections: [Section] = Section.allCases

    func run() async throws {
        let profile = quick ? BenchProfile.quick : BenchProfile.full
        let selected = Set(sections)
        // Every section starts from a fresh process's allocator thresholds, whatever ran before.
        let controlled = MallocThresholds.glibcDefault.apply()
        var report = BenchReport(
            machine: .current(swiftVersion: swiftVersion), profile: profile.name, mallocThresholdsControlled: controlled
        )

        if selected.contains(.aes) {
            progress("AES-256-GCM seal")
            report.aesGCMSeal = try BulkAESBench.run(limits: profile.bulk)
        }
        // Bulk work first: with glibc's default thresholds, whether a freed 64 KiB buffer goes
        // back to the kernel depends on what else sits on the heap (docs/BENCHMARKS.md).
        if selected.contains(.file) {
            progress("file STREAM")
            report.fileStream = try FileStreamBench.run(
                random: SystemRandomSource(), fileBytes: profile.fileStreamBytes, limits: profile.fileStream
            )
        }
        if selected.contains(.keygen) {
            progress("RSA-2048 key generation")
            report.keyGeneration = try KeyGenerationBench.run(identityLimits: profile.identity, keyLimits: profile.rsaKey)
        }
        if selected.contains(.primitives) {
            progress("primitives")
            let keys = PrimitiveBench.Keys(
                signing: try .init(keySize: .bits2048), encryption: try .init(keySize: .bits2048)
            )
            report.primitives = try PrimitiveBench.run(keys: keys, limits: profile.primitive)
        }
        if !selected.isDisjoint(with: [.handshake, .ratchet]) {
            progress("generating two identities and their prekeys")
            let parties = try BenchParties.generate()
            if selected.contains(.handshake) {
                progress("full handshake")
                report.handshake = try HandshakeBench.run(parties: parties, limits: profile.handshake)
            }
            if selected.contains(.ratchet) {
                progress("ratchet messages")
                report.ratchet = try RatchetBench.run(parties: parties, limits: profile.ratchet)
            }
        }
        print(json ? try report.json() : report.text)
    }

    /// Progress goes to standard error, so that `--json` output stays one clean object.
    private func progress(_ section: String) {
        FileHandle.standardError.write(Data("bench: \(section)...\n".utf8))
    }
}
