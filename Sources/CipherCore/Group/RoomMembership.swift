import Foundation

/// A member of a room: the username and the fingerprint the room's statements bind to it.
public struct RoomMember: Sendable, Hashable {
    public let username: String
    public let fingerprint: Fingerprint
    public fileprivate(set) var isAdmin: Bool

    public init(username: String, fingerprint: Fingerprint, isAdmin: Bool) {
        self.username = username
        self.fingerprint = fingerprint
        self.isAdmin = isAdmin
    }
}

/// A room's membership as a client knows it (PROTOCOL.md 13.3): the result of applying the
/// room's signed statements in order, from its creation. A pure state machine: `applying(_:)`
/// takes one checked statement and returns the next membership, or the precise rule it breaks;
/// the value it was called on never changes.
public struct RoomMembership: Sendable, Hashable {
    /// At most this many members at once.
    public static let maxMembers = 1000

    public let room: String
    /// The epoch of the last statement applied; the next one must carry `epoch + 1`.
    public private(set) var epoch: UInt64
    /// The hash of the last statement applied; the next one must name it.
    public private(set) var headHash: [UInt8]
    /// In the order they joined.
    public private(set) var members: [RoomMember]

    /// The membership a room's creation makes: its author, as the first admin.
    public init(creation statement: RoomStatement) throws(RoomMembershipError) {
        guard statement.action == .create, statement.epoch == 1,
              statement.previousHash == RoomStatement.genesisPreviousHash else {
            throw .notCreation
        }
        room = statement.room
        epoch = 1
        headHash = statement.hash
        members = [RoomMember(username: statement.author, fingerprint: statement.authorIdentity.fingerprint, isAdmin: true)]
    }

    /// A membership as stored, with no check: only for state this client derived itself.
    public init(room: String, epoch: UInt64, headHash: [UInt8], members: [RoomMember]) {
        self.room = room
        self.epoch = epoch
        self.headHash = headHash
        self.members = members
    }

    /// Replays a whole chain from the room's creation.
    public init(replaying statements: [RoomStatement]) throws(RoomMembershipError) {
        guard let first = statements.first else { throw .notCreation }
        var membership = try RoomMembership(creation: first)
        for statement in statements.dropFirst() { membership = try membership.applying(statement) }
        self = membership
    }

    public func member(_ username: String) -> RoomMember? { members.first { $0.username == username } }

    public func member(withFingerprint fingerprint: Fingerprint) -> RoomMember? { members.first { $0.fingerprint == fingerprint } }

    public var usernames: [String] { members.map(\.username) }

    /// The membership after `statement`, or why the statement is refused. Checks, in order:
    /// room, epoch, previous hash, the author's membership and key, then the action's own rule.
    public func applying(_ statement: RoomStatement) throws(RoomMembershipError) -> RoomMembership {
        guard statement.room == room else { throw .wrongRoom }
        if statement.action == .create { throw .alreadyCreated }
        guard statement.epoch > epoch else { throw .staleEpoch }
        guard statement.epoch == epoch + 1 else { throw .epochGap }
        guard statement.previousHash == headHash else { throw .forked }
        guard let author = member(statement.author) else { throw .authorNotMember }
        guard author.fingerprint == statement.authorIdentity.fingerprint else { throw .authorKeyMismatch }
        var next = self
        let subjectIndex = members.firstIndex { $0.username == statement.subject }
        switch statement.action {
        case .create:
            throw .alreadyCreated
        case .invite:
            guard author.isAdmin else { throw .notAdmin }
            guard subjectIndex == nil else { throw .alreadyMember }
            guard members.count < Self.maxMembers else { throw .roomFull }
            next.members.append(RoomMember(username: statement.subject, fingerprint: statement.subjectFingerprint, isAdmin: false))
        case .remove:
            guard author.isAdmin else { throw .notAdmin }
            guard statement.subject != statement.author else { throw .removesSelf }
            guard let subjectIndex, members[subjectIndex].fingerprint == statement.subjectFingerprint else { throw .notMember }
            next.members.remove(at: subjectIndex)
        case .leave:
            next.members.removeAll { $0.username == statement.author }
        case .grantAdmin:
            guard author.isAdmin else { throw .notAdmin }
            guard let subjectIndex, members[subjectIndex].fingerprint == statement.subjectFingerprint else { throw .notMember }
            guard !members[subjectIndex].isAdmin else { throw .alreadyAdmin }
            next.members[subjectIndex].isAdmin = true
        }
        next.epoch = statement.epoch
        next.headHash = statement.hash
        return next
    }
}

/// The stored form of a membership: JSON, sealed by whoever keeps it. Fingerprints as hex.
extension RoomMembership: Codable {
    private enum CodingKeys: String, CodingKey { case room, epoch, headHash = "head_hash", members }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        room = try container.decode(String.self, forKey: .room)
        epoch = try container.decode(UInt64.self, forKey: .epoch)
        guard let head = Hex.decode(try container.decode(String.self, forKey: .headHash)), head.count == RoomStatement.hashSize else {
            throw DecodingError.dataCorruptedError(forKey: .headHash, in: container, debugDescription: "not a 32-byte hex hash")
        }
        headHash = head
        members = try container.decode([RoomMember].self, forKey: .members)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(room, forKey: .room)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(Hex.encode(headHash), forKey: .headHash)
        try container.encode(members, forKey: .members)
    }
}

extension RoomMember: Codable {
    private enum CodingKeys: String, CodingKey { case username, fingerprint, isAdmin = "admin" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        username = try container.decode(String.self, forKey: .username)
        guard let bytes = Hex.decode(try container.decode(String.self, forKey: .fingerprint)), let fingerprint = Fingerprint(bytes: bytes) else {
            throw DecodingError.dataCorruptedError(forKey: .fingerprint, in: container, debugDescription: "not a 32-byte hex fingerprint")
        }
        self.fingerprint = fingerprint
        isAdmin = try container.decode(Bool.self, forKey: .isAdmin)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(username, forKey: .username)
        try container.encode(Hex.encode(fingerprint.bytes), forKey: .fingerprint)
        try container.encode(isAdmin, forKey: .isAdmin)
    }
}
