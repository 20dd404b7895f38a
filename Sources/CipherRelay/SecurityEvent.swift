/// What the security log records (one JSON line each): who did what, never content, keys or
/// nonces. Addresses are pseudonymised by the log itself.
public struct SecurityEvent: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case registration
        case registrationRefused = "registration_refused"
        case loginSucceeded = "login_succeeded"
        case loginFailed = "login_failed"
        case prekeysPublished = "prekeys_published"
        case limitHit = "limit_hit"
        case malformedFrame = "malformed_frame"
        case connectionRefused = "connection_refused"
        case membershipRefused = "membership_refused"
        case proxyHeaderRefused = "proxy_header_refused"
    }

    public let kind: Kind
    public let address: String
    public let username: String?
    /// For limits: which one (a fixed set of names); for refusals: the reason code.
    public let detail: String?

    public init(kind: Kind, address: String, username: String? = nil, detail: String? = nil) {
        self.kind = kind
        self.address = address
        self.username = username
        self.detail = detail
    }
}

public protocol SecurityLog: Sendable {
    func record(_ event: SecurityEvent)
}

/// Time as the relay needs it: the wall clock for timestamps and expiry, a monotonic clock for
/// rate limits. Passed in so tests can move it.
public protocol RelayClock: Sendable {
    var wallMilliseconds: UInt64 { get }
    var monotonicNanoseconds: UInt64 { get }
}
