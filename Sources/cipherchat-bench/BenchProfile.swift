/// How long each section of `cipherchat-bench` may run. `full` keeps every section to a few
/// seconds on a 2-core machine; `quick` is a smoke test whose figures are only indicative.
struct BenchProfile: Sendable {
    let name: String
    /// AES-GCM seal at each size, under each malloc setting.
    let bulk: RunLimits
    /// One RSA-2048 key (about 65 ms each, with a long tail).
    let rsaKey: RunLimits
    /// A whole identity: two RSA-2048 keys and a signature.
    let identity: RunLimits
    /// Single primitives that bound the handshake and the ratchet.
    let primitive: RunLimits
    /// Full handshakes, each timed on its own.
    let handshake: RunLimits
    /// Batches of ratchet messages.
    let ratchet: RunLimits
    /// Whole-file passes of the STREAM encryptor and decryptor, under each malloc setting.
    let fileStream: RunLimits
    let fileStreamBytes: Int

    static let full = BenchProfile(
        name: "full",
        bulk: RunLimits(minRuns: 15, maxRuns: 400, budget: .milliseconds(500)),
        rsaKey: RunLimits(minRuns: 9, maxRuns: 41, budget: .seconds(2)),
        identity: RunLimits(minRuns: 7, maxRuns: 21, budget: .seconds(3)),
        primitive: RunLimits(minRuns: 9, maxRuns: 200, budget: .milliseconds(400)),
        handshake: RunLimits(minRuns: 51, maxRuns: 2001, budget: .seconds(3)),
        ratchet: RunLimits(minRuns: 15, maxRuns: 400, budget: .seconds(1)),
        fileStream: RunLimits(minRuns: 3, maxRuns: 7, budget: .seconds(2)),
        fileStreamBytes: 256 << 20
    )

    static let quick = BenchProfile(
        name: "quick",
        bulk: RunLimits(minRuns: 3, maxRuns: 5, budget: .milliseconds(50)),
        rsaKey: RunLimits(minRuns: 3, maxRuns: 3, budget: .zero),
        identity: RunLimits(minRuns: 1, maxRuns: 1, budget: .zero),
        primitive: RunLimits(minRuns: 3, maxRuns: 5, budget: .milliseconds(20)),
        handshake: RunLimits(minRuns: 5, maxRuns: 21, budget: .milliseconds(100)),
        ratchet: RunLimits(minRuns: 3, maxRuns: 5, budget: .milliseconds(50)),
        fileStream: RunLimits(minRuns: 1, maxRuns: 1, budget: .zero),
        fileStreamBytes: 16 << 20
    )
}
