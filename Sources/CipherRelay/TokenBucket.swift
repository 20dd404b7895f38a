/// A token bucket for rate limits: `capacity` tokens, refilled at `ratePerSecond`. Pure: the
/// caller passes the monotonic time in nanoseconds.
public struct TokenBucket: Sendable {
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var lastRefill: UInt64

    public init(capacity: Int, ratePerSecond: Double, now: UInt64) {
        self.capacity = Double(capacity)
        self.ratePerSecond = ratePerSecond
        tokens = Double(capacity)
        lastRefill = now
    }

    /// Takes one token, or says how many milliseconds until one is available.
    public mutating func take(now: UInt64) -> TakeResult {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return .allowed
        }
        let wait = (1 - tokens) / ratePerSecond * 1000
        return .limited(retryAfterMilliseconds: UInt32(min(wait.rounded(.up), Double(UInt32.max))))
    }

    private mutating func refill(now: UInt64) {
        guard now > lastRefill else { return }
        tokens = min(capacity, tokens + Double(now - lastRefill) / 1_000_000_000 * ratePerSecond)
        lastRefill = now
    }

    public enum TakeResult: Sendable, Equatable {
        case allowed
        case limited(retryAfterMilliseconds: UInt32)
    }
}
