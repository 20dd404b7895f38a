import NIOCore
import NIOPosix

/// The relay could not be reached: no TCP connection to it (its address and the system's
/// reason). Errors after the connection opened (TLS, the relay's own refusals) are not this.
public struct RelayUnreachable: Error, CustomStringConvertible, Sendable {
    public let address: String
    public let reason: String

    public var description: String {
        "cannot reach the relay at \(address) (\(reason))"
    }

    /// `error` from opening a connection to `host`:`port` as this, or nil when the connection
    /// opened and something later failed.
    init?(connecting error: any Error, host: String, port: Int) {
        let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        switch error {
        case let failure as NIOConnectionError:
            let reasons = failure.connectionErrors.map { Self.reason(for: $0.error) }
            if let first = reasons.first {
                self.init(address: address, reason: first)
            } else if failure.dnsAError != nil || failure.dnsAAAAError != nil {
                self.init(address: address, reason: "its name does not resolve")
            } else {
                self.init(address: address, reason: "no address to connect to")
            }
        case ChannelError.connectTimeout:
            self.init(address: address, reason: Self.reason(for: error))
        case let failure as IOError where Self.connectErrnos.contains(failure.errnoCode):
            self.init(address: address, reason: Self.reason(for: failure))
        default:
            return nil
        }
    }

    private init(address: String, reason: String) {
        self.address = address
        self.reason = reason
    }

    private static let connectErrnos: Set<Int32> = [ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET]

    private static func reason(for error: any Error) -> String {
        switch error {
        case let failure as IOError:
            switch failure.errnoCode {
            case ECONNREFUSED: "connection refused: is `cipherchat server` running there?"
            case ETIMEDOUT: "timed out"
            case EHOSTUNREACH: "host unreachable"
            case ENETUNREACH: "network unreachable"
            default: String(cString: strerror(failure.errnoCode))
            }
        case ChannelError.connectTimeout:
            "no answer within 10 s"
        default:
            "cannot connect"
        }
    }
}
