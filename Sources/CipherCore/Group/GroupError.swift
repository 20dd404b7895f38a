/// Why a member could not send to a room.
public struct GroupError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case invalidRoomName
        case chainExhausted
    }

    private let code: Code

    /// The room name is empty or longer than 64 bytes.
    public static let invalidRoomName = Self(code: .invalidRoomName)
    /// The chain has sent 2^32 - 1 messages; make a fresh one.
    public static let chainExhausted = Self(code: .chainExhausted)

    public var description: String {
        switch code {
        case .invalidRoomName: "a room name is 1 to 64 bytes"
        case .chainExhausted: "the sender chain is exhausted; a fresh one must be made"
        }
    }
}
