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

    /// Takes `count` tokens (at most the capacity), or says how many milliseconds until they
    /// are available; takes none then.
    public mutating func take(_ count: Int = 1, now: UInt64) -> TakeResult {
        refill(now: now)
        let needed = min(Double(max(count, 1)), capacity)
        if tokens >= needed {
            tokens -= needed
            return .allowed
        }
        let wait = (needed - tokens) / ratePerSecond * 1000
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
