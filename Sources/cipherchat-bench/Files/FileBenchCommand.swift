import ArgumentParser
import CipherClient
import CipherCore
import Foundation

/// `cipherchat-bench files`: a file sent end to end through a relay (encrypt, upload, relay to
/// disk, download, decrypt to disk, hash check), beside OpenSSL's AES-256-GCM and a plain
/// loopback copy of the same bytes, measured in the same run. docs/BENCHMARKS.md records them.
struct FileBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "files",
        abstract: "Measure file transfer end to end through a relay, in MB/s, beside AES-GCM and a loopback copy.",
        discussion: """
            Runs a relay and two clients in this process, over real TLS on 127.0.0.1, with the \
            relay's blobs and the files in --scratch. Each run sends a file of --size MiB of \
            random bytes and downloads it: upload and download are timed apart, and the end-to-end \
            figure is the size over their sum. Build with -c release.
            """
    )

    @ParentCommand var bench: BenchCommand

    @Flag(name: .customLong("quick"), help: "A 128 MiB file, one run: a smoke test.")
    var quickFlag = false

    @Flag(name: .customLong("json"), help: "Print one JSON object with every figure instead of the text report.")
    var jsonFlag = false

    @Option(help: "File size in MiB (default 1024; 128 with --quick).")
    var size: Int?

    @Option(help: "Runs; the report gives medians (default 3; 1 with --quick).")
    var runs: Int?

    @Option(help: "Directory for the relay's data and the files (default: the system temporary directory).")
    var scratch: String?

    private var quick: Bool { quickFlag || bench.quick }
    private var json: Bool { jsonFlag || bench.json }

    func validate() throws {
        if let size, !(1...4096).contains(size) { throw ValidationError("--size takes 1 to 4096 (MiB)") }
        if let runs, !(1...20).contains(runs) { throw ValidationError("--runs takes 1 to 20") }
    }

    func run() async throws {
        let mebibytes = size ?? (quick ? 128 : 1024)
        let runCount = runs ?? (quick ? 1 : 3)
        let base = (scratch ?? FileManager.default.temporaryDirectory.path) + "/cipherchat-bench-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: base) }

        let source = base + "/source.bin"
        progress("writing \(mebibytes) MiB of random bytes")
        try Self.writeRandomFile(at: source, mebibytes: mebibytes)
        let bytes = mebibytes << 20

        progress("baselines: openssl speed -evp aes-256-gcm (256 KiB), loopback copy to disk")
        let openSSL = FileBenchBaselines.openSSLAESGCM(bytes: FileBenchReport.chunkSize, seconds: quick ? 1 : 3, outputPath: base + "/openssl.txt")
        var copies = SampleSet()
        for _ in 0..<runCount {
            copies.append(.seconds(try FileBenchBaselines.loopbackCopy(source: source, destination: base + "/copy.bin")))
            try? FileManager.default.removeItem(atPath: base + "/copy.bin")
        }

        progress("starting an in-process relay and two clients")
        let relay = try await InProcessRelay.start(in: base + "/relay")
        var uploads = SampleSet()
        var downloads = SampleSet()
        var uploadCPU = SampleSet()
        var downloadCPU = SampleSet()
        do {
            let alice = try await ChatClient.create(
                home: base + "/alice", passphrase: "bench", endpoint: try relay.endpoint, username: "alice", trust: relay.trust,
                kdf: .scrypt(logN: 10, r: 8, p: 1)
            )
            let bob = try await ChatClient.create(
                home: base + "/bob", passphrase: "bench", endpoint: try relay.endpoint, username: "bob", trust: relay.trust,
                kdf: .scrypt(logN: 10, r: 8, p: 1)
            )
            try await alice.start(receiving: false)
            try await bob.start()
            for run in 1...runCount {
                progress("run \(run) of \(runCount): upload")
                let uploadCPUStart = ownCPUSeconds()
                let (sent, upload) = try await Self.timed { try await alice.sendFile(at: source, to: "bob") }
                uploadCPU.append(.seconds(ownCPUSeconds() - uploadCPUStart))
                try await Self.waitForOffer(sent.id, at: bob)
                progress("run \(run) of \(runCount): download")
                let output = base + "/received.bin"
                let downloadCPUStart = ownCPUSeconds()
                let (_, download) = try await Self.timed { try await bob.downloadFile(id: sent.id, to: output) }
                downloadCPU.append(.seconds(ownCPUSeconds() - downloadCPUStart))
                try? FileManager.default.removeItem(atPath: output)
                uploads.append(upload)
                downloads.append(download)
            }
            await alice.stop()
            await bob.stop()
        } catch {
            await relay.stop()
            throw error
        }
        await relay.stop()

        let report = FileBenchReport(
            machine: .current(swiftVersion: bench.swiftVersion), fileMebibytes: mebibytes, runs: runCount,
            scratchDirectory: scratch ?? FileManager.default.temporaryDirectory.path,
            uploadMegabytesPerSecond: megabytesPerSecond(bytes: bytes, seconds: uploads.median),
            downloadMegabytesPerSecond: megabytesPerSecond(bytes: bytes, seconds: downloads.median),
            endToEndMegabytesPerSecond: megabytesPerSecond(bytes: bytes, seconds: uploads.median + downloads.median),
            uploadCPUMillisecondsPerMebibyte: uploadCPU.median * 1000 / Double(mebibytes),
            downloadCPUMillisecondsPerMebibyte: downloadCPU.median * 1000 / Double(mebibytes),
            openSSLAESGCMMegabytesPerSecond: openSSL.map { $0 / 1e6 },
            loopbackCopyMegabytesPerSecond: megabytesPerSecond(bytes: bytes, seconds: copies.median),
            peakResidentMebibytes: Self.peakResidentMebibytes()
        )
        print(json ? try report.json() : report.text)
    }

    static func timed<T>(_ body: () async throws -> T) async throws -> (T, Duration) {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await body()
        return (result, start.duration(to: clock.now))
    }

    /// Waits (at most 60 s) until the offer has reached `client` and been stored.
    static func waitForOffer(_ id: String, at client: ChatClient) async throws {
        for _ in 0..<6_000 {
            if try await client.receivedFiles().contains(where: { $0.id == id }) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchFailure(description: "the file's offer did not arrive within 60 s")
    }

    static func writeRandomFile(at path: String, mebibytes: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BenchFailure(description: "cannot create \(path)")
        }
        defer { try? handle.close() }
        var block = SystemRandomSource().bytes(1 << 20)
        for index in 0..<mebibytes {
            // Every block differs, so nothing along the way can take a shortcut on repeats.
            withUnsafeBytes(of: UInt64(index).bigEndian) { for (offset, byte) in $0.enumerated() { block[offset] = byte } }
            try handle.write(contentsOf: block)
        }
    }

    /// This process's peak resident memory (`VmHWM`): relay and both clients together.
    static func peakResidentMebibytes() -> Int? {
        ProcessStatus.kibibytes("VmHWM").map { $0 / 1024 }
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data("bench files: \(text)...\n".utf8))
    }
}

struct FileBenchReport: Codable, Sendable {
    static let chunkSize = ChatClient.fileChunkSize

    var machine: MachineInfo
    var fileMebibytes: Int
    var runs: Int
    var scratchDirectory: String
    var uploadMegabytesPerSecond: Double
    var downloadMegabytesPerSecond: Double
    var endToEndMegabytesPerSecond: Double
    /// CPU time of the whole process (relay and both clients, both cores) per MiB moved: less
    /// sensitive than MB/s to other work on a shared machine.
    var uploadCPUMillisecondsPerMebibyte: Double
    var downloadCPUMillisecondsPerMebibyte: Double
    var openSSLAESGCMMegabytesPerSecond: Double?
    var loopbackCopyMegabytesPerSecond: Double
    var peakResidentMebibytes: Int?

    var text: String {
        func figure(_ value: Double) -> String { String(format: "%8.0f MB/s", value) }
        return """
            File transfer through a relay (\(fileMebibytes) MiB, median of \(runs) run(s), relay and clients in one process, \
            files in \(scratchDirectory))
              upload (read, encrypt, TLS, relay writes chunks)      \(figure(uploadMegabytesPerSecond))
              download (relay reads, TLS, decrypt, write, sync)     \(figure(downloadMegabytesPerSecond))
              end to end (size / (upload + download))              \(figure(endToEndMegabytesPerSecond))
            CPU time of this process (relay and clients, all threads) per MiB
              upload \(String(format: "%.2f", uploadCPUMillisecondsPerMebibyte)) ms, download \(String(format: "%.2f", downloadCPUMillisecondsPerMebibyte)) ms
            Baselines, same run
              openssl speed -evp aes-256-gcm, 256 KiB blocks        \(openSSLAESGCMMegabytesPerSecond.map(figure) ?? "     (no openssl)")
              plain loopback TCP copy of the file to disk, synced   \(figure(loopbackCopyMegabytesPerSecond))
            Peak resident memory of this process: \(peakResidentMebibytes.map { "\($0) MiB" } ?? "unknown")
            \(machine.cpuModel), \(machine.logicalCores) logical cores
            """
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
