import CipherWire

/// An error the relay sent, or the connection's end. The message is the relay's fixed text.
public struct RelayError: Error, Hashable, CustomStringConvertible, Sendable {
    public let code: WireError.Code
    public let message: String
    public let retryAfterMilliseconds: UInt32
    public let limit: String

    init(_ error: WireError) {
        code = error.code
        message = error.message
        retryAfterMilliseconds = error.retryAfterMs
        limit = error.limit
    }

    init(code: WireError.Code, message: String) {
        self.code = code
        self.message = message
        retryAfterMilliseconds = 0
        limit = ""
    }

    /// The connection closed before the answer came.
    public static let connectionClosed = RelayError(code: .unspecified, message: "the connection to the relay closed")
    /// The relay answered with a frame of the wrong kind.
    public static let unexpectedReply = RelayError(code: .unspecified, message: "the relay sent an unexpected reply")

    public var description: String {
        var text = message
        if !limit.isEmpty { text += " (limit: \(limit))" }
        if retryAfterMilliseconds > 0 { text += "; retry in \(Double(retryAfterMilliseconds) / 1000) s" }
        return text
    }
}
