import CipherRelay
import Foundation

/// The real clocks: wall time for timestamps and expiry, a monotonic clock for rate limits.
public struct SystemRelayClock: RelayClock {
    public init() {}

    public var wallMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    public var monotonicNanoseconds: UInt64 { DispatchTime.now().uptimeNanoseconds }
}
