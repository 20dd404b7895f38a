import Foundation

/// Files for transfer tests: written in 1 MiB blocks, never held whole in memory.
enum TestFiles {
    static let block = 1 << 20

    /// A file of `size` bytes whose blocks differ from one another (so a reordered or repeated
    /// chunk would show), with `marker` written at the start of every block when given.
    static func make(at url: URL, size: Int, marker: String? = nil) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw HarnessError("cannot create \(url.path)") }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var generator = SystemRandomNumberGenerator()
        var buffer = [UInt8](repeating: 0, count: block)
        for index in buffer.indices { buffer[index] = UInt8.random(in: 0...255, using: &generator) }
        var written = 0
        var blockNumber: UInt64 = 0
        while written < size {
            withUnsafeBytes(of: blockNumber.bigEndian) { for (offset, byte) in $0.enumerated() { buffer[offset] = byte } }
            if let marker { for (offset, byte) in marker.utf8.enumerated() { buffer[8 + offset] = byte } }
            let count = min(block, size - written)
            try handle.write(contentsOf: buffer[0..<count])
            written += count
            blockNumber += 1
        }
    }

    /// `sha256sum`'s hex digest of the file.
    static func sha256(of url: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/sha256sum")
        process.arguments = [url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let digest = String(decoding: output, as: UTF8.self).split(separator: " ").first,
              digest.count == 64 else {
            throw HarnessError("sha256sum failed on \(url.path)")
        }
        return String(digest)
    }

    static func size(of url: URL) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.intValue ?? -1
    }

    static func inode(of url: URL) -> UInt64? {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.systemFileNumber] as? NSNumber)?.uint64Value
    }
}

/// One line of `cipherchat file list --json`.
struct ListedFile: Decodable, Sendable, Equatable {
    let id: String
    let from: String
    let room: String?
    let name: String
    let size: Int
    let sha256: String

    init(jsonLine: String) throws {
        do {
            self = try JSONDecoder().decode(ListedFile.self, from: Data(jsonLine.utf8))
        } catch {
            throw HarnessError("file list --json printed a line that is not a file (\(error)): \(jsonLine)")
        }
    }
}

extension UserHome {
    /// `cipherchat file list --json`.
    func listFiles() async throws -> [ListedFile] {
        try await run(["file", "list"], ["--json"]).requireSuccess().outputLines.map { try ListedFile(jsonLine: $0) }
    }
}
