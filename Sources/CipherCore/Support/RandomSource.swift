/// Where the core gets its randomness. The core never reaches for a global generator: every
/// operation that needs fresh bytes takes a source, so tests can make handshakes and ratchets
/// reproducible and production code passes `SystemRandomSource`.
public protocol RandomSource: Sendable {
    /// Returns `count` bytes that are uniformly random and unpredictable to an attacker.
    func bytes(_ count: Int) -> [UInt8]
}

/// The operating system's cryptographically secure generator (getrandom on Linux).
public struct SystemRandomSource: RandomSource {
    public init() {}

    public func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var output = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = generator.next()
            let take = min(8, count - index)
            withUnsafeBytes(of: &word) { wordBytes in
                for offset in 0..<take { output[index + offset] = wordBytes[offset] }
            }
            index += take
        }
        return output
    }
}
