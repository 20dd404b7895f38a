import CipherCore

/// STREAM file encryption (AES-256-GCM per 64 KiB chunk, plus the SHA-256 of the whole file
/// that goes into the manifest), fed in 64 KiB pieces as a file reader would, output discarded.
struct FileStreamFigures: Codable, Sendable {
    var malloc: MallocThresholds
    var fileBytes: Int
    var pieceBytes: Int
    var chunkBytes: Int
    /// `FileEncryptor.append` for every piece, then `finish`.
    var encryptMegabytesPerSecond: Double
    /// `FileDecryptor.open` for every chunk, then `finish` (which checks the SHA-256).
    var decryptMegabytesPerSecond: Double
    var samples: Int
}

enum FileStreamBench {
    static let pieceBytes = 64 << 10

    /// One pass under each malloc setting; leaves glibc's default thresholds in force.
    static func run(random: some RandomSource, fileBytes: Int, limits: RunLimits) throws -> [FileStreamFigures] {
        defer { MallocThresholds.glibcDefault.apply() }
        return try MallocThresholds.allCases.map { malloc in
            malloc.apply()
            return try run(random: random, malloc: malloc, fileBytes: fileBytes, limits: limits)
        }
    }

    private static func run(
        random: some RandomSource, malloc: MallocThresholds, fileBytes: Int, limits: RunLimits
    ) throws -> FileStreamFigures {
        let piece = [UInt8](repeating: 0xc3, count: pieceBytes)
        let pieces = fileBytes / pieceBytes

        var encryptSamples = SampleSet()
        try limits.run {
            let (_, elapsed) = try timeOnce {
                var encryptor = FileEncryptor(random: random)
                for _ in 0..<pieces {
                    try encryptor.append(piece) { chunk in blackHole(chunk) }
                }
                blackHole(try encryptor.finish(name: "bench.bin"))
            }
            encryptSamples.append(elapsed)
        }

        // Encrypted once, kept in memory, so the decryption figure has no encryption in it.
        var encryptor = FileEncryptor(random: random)
        var chunks: [[UInt8]] = []
        chunks.reserveCapacity(pieces + 1)
        for _ in 0..<pieces {
            try encryptor.append(piece) { chunks.append($0) }
        }
        let (finalChunk, manifest) = try encryptor.finish(name: "bench.bin")
        chunks.append(finalChunk)

        var decryptSamples = SampleSet()
        try limits.run {
            let (_, elapsed) = try timeOnce {
                var decryptor = FileDecryptor(manifest: manifest)
                for chunk in chunks {
                    blackHole(try decryptor.open(chunk))
                }
                try decryptor.finish()
            }
            decryptSamples.append(elapsed)
        }

        return FileStreamFigures(
            malloc: malloc, fileBytes: pieces * pieceBytes, pieceBytes: pieceBytes, chunkBytes: manifest.chunkSize,
            encryptMegabytesPerSecond: megabytesPerSecond(bytes: pieces * pieceBytes, seconds: encryptSamples.median),
            decryptMegabytesPerSecond: megabytesPerSecond(bytes: pieces * pieceBytes, seconds: decryptSamples.median),
            samples: encryptSamples.count
        )
    }
}
