/// Why a session could not send.
public struct SessionError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case chainExhausted
    }

    private let code: Code

    /// The sending chain has sent 2^32 - 1 messages; it continues after the peer's next reply.
    public static let chainExhausted = Self(code: .chainExhausted)

    public var description: String {
        switch code {
        case .chainExhausted: "the sending chain is exhausted until the peer replies"
        }
    }
}
