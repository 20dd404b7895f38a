import CipherCore

/// Why a room operation failed, in words for the person at the terminal.
public struct RoomError: Error, Hashable, CustomStringConvertible, Sendable {
    public let description: String

    static func invalidName(_ room: String) -> RoomError {
        RoomError(description: "'\(room)' is not a valid room name (# and then 1 to 32 of a-z, 0-9, _ . -)")
    }

    static func notMember(_ room: String) -> RoomError { RoomError(description: "you are not a member of \(room)") }
    static func notAdmin(_ room: String) -> RoomError { RoomError(description: "only an admin of \(room) can do that") }
    static func alreadyMember(_ user: String, _ room: String) -> RoomError { RoomError(description: "\(user) is already a member of \(room)") }
    static func notAMember(_ user: String, _ room: String) -> RoomError { RoomError(description: "\(user) is not a member of \(room)") }
    static func exists(_ room: String) -> RoomError { RoomError(description: "\(room) already exists") }
    static func busy(_ room: String) -> RoomError {
        RoomError(description: "\(room) kept changing while this change was made; try again")
    }
    static func refused(_ room: String, _ reason: RoomMembershipError) -> RoomError {
        RoomError(description: "the change to \(room) is refused: \(reason)")
    }
}
