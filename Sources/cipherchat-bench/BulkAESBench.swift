import Crypto

/// AES-256-GCM throughput of swift-crypto's one-shot `AES.GCM.seal(_:using:)`, each call with
/// a fresh random nonce, as an application calls it.
struct BulkSealFigure: Codable, Sendable {
    /// What was sealed per measured unit, e.g. "64 KiB" or "1 MiB as 16 x 64 KiB".
    var label: String
    var malloc: MallocThresholds
    var bytes: Int
    /// Bytes per call of `AES.GCM.seal`.
    var bytesPerCall: Int
    var medianMicrosecondsPerCall: Double
    var megabytesPerSecond: Double
    var samples: Int
}

enum BulkAESBench {
    static let sizes = [1 << 10, 64 << 10, 1 << 20]
    static let chunkSize = 64 << 10

    /// Every size under each malloc setting; leaves glibc's default thresholds in force.
    static func run(limits: RunLimits) throws -> [BulkSealFigure] {
        defer { MallocThresholds.glibcDefault.apply() }
        return try MallocThresholds.allCases.flatMap { malloc in
            malloc.apply()
            return try run(malloc: malloc, limits: limits)
        }
    }

    private static func run(malloc: MallocThresholds, limits: RunLimits) throws -> [BulkSealFigure] {
        let key = SymmetricKey(size: .bits256)
        var figures: [BulkSealFigure] = []
        for size in sizes {
            let input = [UInt8](repeating: 0x5a, count: size)
            let callsPerSample = max(1, (4 << 20) / size)
            var samples = SampleSet()
            try limits.run {
                let elapsed = try timeBatch(operations: callsPerSample) {
                    blackHole(try AES.GCM.seal(input, using: key))
                }
                samples.append(elapsed, operations: callsPerSample)
            }
            figures.append(figure(label: label(size), malloc: malloc, bytes: size, bytesPerCall: size, calls: 1, samples: samples))
        }
        figures.append(try chunkedMegabyte(key: key, malloc: malloc, limits: limits))
        return figures
    }

    /// One 1 MiB buffer sealed as sixteen 64 KiB calls over slices of one reused input buffer:
    /// each output stays under glibc's default mmap threshold, so no call maps and unmaps (and
    /// the kernel zero-fills) a fresh 1 MiB region. swift-crypto allocates every output itself.
    private static func chunkedMegabyte(key: SymmetricKey, malloc: MallocThresholds, limits: RunLimits) throws -> BulkSealFigure {
        let size = 1 << 20
        let input = [UInt8](repeating: 0x5a, count: size)
        let chunks = size / chunkSize
        let buffersPerSample = 4
        var samples = SampleSet()
        try limits.run {
            let elapsed = try timeBatch(operations: buffersPerSample) {
                for index in 0..<chunks {
                    let start = index * chunkSize
                    blackHole(try AES.GCM.seal(input[start..<start + chunkSize], using: key))
                }
            }
            samples.append(elapsed, operations: buffersPerSample)
        }
        return figure(label: "1 MiB as 16 x 64 KiB", malloc: malloc, bytes: size, bytesPerCall: chunkSize, calls: chunks, samples: samples)
    }

    private static func figure(label: String, malloc: MallocThresholds, bytes: Int, bytesPerCall: Int, calls: Int, samples: SampleSet) -> BulkSealFigure {
        BulkSealFigure(
            label: label, malloc: malloc, bytes: bytes, bytesPerCall: bytesPerCall,
            medianMicrosecondsPerCall: samples.median / Double(calls) * 1e6,
            megabytesPerSecond: megabytesPerSecond(bytes: bytes, seconds: samples.median),
            samples: samples.count
        )
    }

    private static func label(_ size: Int) -> String {
        size >= 1 << 20 ? "\(size >> 20) MiB" : "\(size >> 10) KiB"
    }
}
