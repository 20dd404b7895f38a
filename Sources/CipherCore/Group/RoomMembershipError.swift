/// Why a room statement was refused (PROTOCOL.md 13.3). Each refusal names the rule broken, so
/// that a client can warn its user precisely; none of them concerns a secret.
public struct RoomMembershipError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case malformed
        case badSignature
        case wrongRoom
        case notCreation
        case alreadyCreated
        case staleEpoch
        case epochGap
        case forked
        case authorNotMember
        case authorKeyMismatch
        case notAdmin
        case alreadyMember
        case notMember
        case alreadyAdmin
        case removesSelf
        case roomFull
    }

    private let code: Code

    /// The statement does not decode, or a field is out of range.
    public static let malformed = Self(code: .malformed)
    /// The author's signature does not verify under the identity it carries.
    public static let badSignature = Self(code: .badSignature)
    /// The statement is about another room.
    public static let wrongRoom = Self(code: .wrongRoom)
    /// A room's first statement must be its creation, at epoch 1.
    public static let notCreation = Self(code: .notCreation)
    /// A creation for a room that exists.
    public static let alreadyCreated = Self(code: .alreadyCreated)
    /// The epoch is not above the room's: an old or replayed statement.
    public static let staleEpoch = Self(code: .staleEpoch)
    /// The epoch skips ahead: statements in between are missing.
    public static let epochGap = Self(code: .epochGap)
    /// The statement does not name the hash of the statement before it.
    public static let forked = Self(code: .forked)
    /// The author is not a member of the room.
    public static let authorNotMember = Self(code: .authorNotMember)
    /// The author's key is not the key the room knows for that member.
    public static let authorKeyMismatch = Self(code: .authorKeyMismatch)
    /// Only admins invite, remove and grant admin.
    public static let notAdmin = Self(code: .notAdmin)
    public static let alreadyMember = Self(code: .alreadyMember)
    public static let notMember = Self(code: .notMember)
    public static let alreadyAdmin = Self(code: .alreadyAdmin)
    /// A member leaves rather than removing itself.
    public static let removesSelf = Self(code: .removesSelf)
    /// The room has as many members as allowed.
    public static let roomFull = Self(code: .roomFull)

    public var description: String {
        switch code {
        case .malformed: "the membership statement is malformed"
        case .badSignature: "the membership statement's signature does not verify"
        case .wrongRoom: "the membership statement is for another room"
        case .notCreation: "a room's first statement must create it"
        case .alreadyCreated: "the room already exists"
        case .staleEpoch: "the membership statement is older than the room's state"
        case .epochGap: "membership statements are missing before this one"
        case .forked: "the membership statement does not follow the room's last statement"
        case .authorNotMember: "the author of the change is not a member"
        case .authorKeyMismatch: "the author's key is not the one the room knows"
        case .notAdmin: "the change was made by a member who is not an admin"
        case .alreadyMember: "that user is already a member"
        case .notMember: "that user is not a member"
        case .alreadyAdmin: "that member is already an admin"
        case .removesSelf: "a member leaves the room rather than removing itself"
        case .roomFull: "the room has the maximum number of members"
        }
    }
}
