import CipherCore
import Crypto
import Foundation

/// A deterministic random source for tests and vectors: block i is SHA-256(seed || u64be(i)),
/// read as one stream. Reproducible across runs and machines; never for real keys.
public final class SeededRandomSource: RandomSource, @unchecked Sendable {
    private let seed: [UInt8]
    private let lock = NSLock()
    private var counter: UInt64 = 0
    private var buffer: [UInt8] = []

    public init(seed: String) {
        self.seed = Array(seed.utf8)
    }

    public func bytes(_ count: Int) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        while buffer.count < count {
            var block = seed
            withUnsafeBytes(of: counter.bigEndian) { block.append(contentsOf: $0) }
            buffer.append(contentsOf: SHA256.hash(data: block))
            counter += 1
        }
        let out = Array(buffer.prefix(count))
        buffer.removeFirst(count)
        return out
    }
}
