/// How long one measurement may run: at least `minRuns` samples, then more until `budget` is
/// spent or `maxRuns` is reached. Every section is bounded this way, so a slow machine makes
/// the figures noisier, never the run endless.
struct RunLimits: Sendable {
    let minRuns: Int
    let maxRuns: Int
    let budget: Duration

    /// Calls `body` once per sample until the limits say stop.
    func run(_ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        var runs = 0
        while runs < maxRuns && (runs < minRuns || clock.now < deadline) {
            try body()
            runs += 1
        }
    }
}

/// Timings of one operation, in seconds per operation.
struct SampleSet: Sendable {
    private(set) var seconds: [Double] = []

    var count: Int { seconds.count }

    mutating func append(_ elapsed: Duration, operations: Int = 1) {
        seconds.append(elapsed.seconds / Double(operations))
    }

    /// The median; the mean of the middle two for an even count.
    var median: Double {
        precondition(!seconds.isEmpty, "no samples taken")
        let sorted = seconds.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The nearest-rank percentile, `fraction` in 0...1: the tail a user sometimes waits for.
    func percentile(_ fraction: Double) -> Double {
        precondition(!seconds.isEmpty, "no samples taken")
        let sorted = seconds.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Times `operations` calls of `body` as one sample, so that a fast operation is not lost in
/// the clock's own cost.
func timeBatch(operations: Int, _ body: () throws -> Void) rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    for _ in 0..<operations { try body() }
    return start.duration(to: clock.now)
}

/// Times one call of `body`, returning its result and how long it took.
func timeOnce<Result>(_ body: () throws -> Result) rethrows -> (result: Result, elapsed: Duration) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = try body()
    return (result, start.duration(to: clock.now))
}

/// Keeps a computed value alive, so the optimiser cannot drop the work that produced it.
@inline(never) @_optimize(none)
func blackHole<Value>(_ value: Value) {}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

/// Decimal megabytes (10^6 bytes) per second, the unit `openssl speed` uses.
func megabytesPerSecond(bytes: Int, seconds: Double) -> Double {
    Double(bytes) / seconds / 1e6
}
