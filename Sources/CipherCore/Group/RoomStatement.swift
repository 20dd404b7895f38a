import CipherWire
import Crypto
import Foundation

/// One signed change to a room's membership (PROTOCOL.md 13.2): who made it (the author, with
/// the identity that signs it), what it does to whom (the subject), and where it stands in the
/// room's chain (its epoch and the hash of the statement before it). A value of this type has
/// been checked: its fields are in range and the author's signature verifies. Whether the change
/// is allowed is for `RoomMembership.applying(_:)` to say.
public struct RoomStatement: Sendable, Hashable {
    public enum Action: UInt32, Sendable, Hashable, CaseIterable {
        case create = 1
        case invite = 2
        case remove = 3
        case leave = 4
        case grantAdmin = 5
    }

    /// The largest `RoomStatement` encoding a decoder accepts.
    public static let maxSerializedSize = 8192
    public static let hashSize = 32
    /// The previous hash of a room's creation.
    public static let genesisPreviousHash = [UInt8](repeating: 0, count: hashSize)

    public let room: String
    public let epoch: UInt64
    public let previousHash: [UInt8]
    public let action: Action
    public let author: String
    public let authorIdentity: PublicIdentity
    public let subject: String
    public let subjectFingerprint: Fingerprint
    let signature: [UInt8]

    /// Makes and signs a statement. For `.create` and `.leave` the subject is the author.
    public static func sign(
        room: String, epoch: UInt64, previousHash: [UInt8], action: Action,
        author: String, identity: PrivateIdentity, subject: String? = nil, subjectFingerprint: Fingerprint? = nil
    ) throws -> RoomStatement {
        let selfSubject = action == .create || action == .leave
        let subjectName = selfSubject ? author : (subject ?? "")
        let subjectKey = selfSubject ? identity.publicIdentity.fingerprint : subjectFingerprint
        guard let subjectKey, Self.fieldsAreValid(room: room, epoch: epoch, previousHash: previousHash,
                                                  author: author, subject: subjectName) else {
            throw RoomMembershipError.malformed
        }
        let bytes = signedBytes(
            room: room, epoch: epoch, previousHash: previousHash, action: action, author: author,
            authorFingerprint: identity.publicIdentity.fingerprint, subject: subjectName, subjectFingerprint: subjectKey
        )
        return RoomStatement(
            room: room, epoch: epoch, previousHash: previousHash, action: action, author: author,
            authorIdentity: identity.publicIdentity, subject: subjectName, subjectFingerprint: subjectKey,
            signature: try identity.sign(bytes)
        )
    }

    private init(room: String, epoch: UInt64, previousHash: [UInt8], action: Action, author: String,
                 authorIdentity: PublicIdentity, subject: String, subjectFingerprint: Fingerprint, signature: [UInt8]) {
        self.room = room
        self.epoch = epoch
        self.previousHash = previousHash
        self.action = action
        self.author = author
        self.authorIdentity = authorIdentity
        self.subject = subject
        self.subjectFingerprint = subjectFingerprint
        self.signature = signature
    }

    /// Checks a received statement: every field, then the author's identity, then the signature.
    public init(wire: WireRoomStatement) throws(RoomMembershipError) {
        guard Self.fieldsAreValid(room: wire.room, epoch: wire.epoch, previousHash: Array(wire.previousHash),
                                  author: wire.author, subject: wire.subject),
              let action = Action(rawValue: UInt32(clamping: wire.action.rawValue)),
              wire.hasAuthorIdentity,
              let subjectFingerprint = Fingerprint(bytes: Array(wire.subjectFingerprint)),
              wire.signature.count <= 512 else {
            throw .malformed
        }
        let identity: PublicIdentity
        do {
            identity = try PublicIdentity(wire: wire.authorIdentity)
        } catch {
            throw .malformed
        }
        if action == .create || action == .leave {
            guard wire.subject == wire.author, subjectFingerprint == identity.fingerprint else { throw .malformed }
        }
        self.init(
            room: wire.room, epoch: wire.epoch, previousHash: Array(wire.previousHash), action: action, author: wire.author,
            authorIdentity: identity, subject: wire.subject, subjectFingerprint: subjectFingerprint, signature: Array(wire.signature)
        )
        guard identity.isValidSignature(signature, over: signedBytes) else { throw .badSignature }
    }

    /// Decodes and checks one statement from untrusted bytes.
    public init(serialized bytes: some Collection<UInt8>) throws(RoomMembershipError) {
        let wire: WireRoomStatement
        do {
            wire = try WireRoomStatement(boundedBytes: bytes, maxSize: Self.maxSerializedSize)
        } catch {
            throw .malformed
        }
        try self.init(wire: wire)
    }

    public var wire: WireRoomStatement {
        var wire = WireRoomStatement()
        wire.room = room
        wire.epoch = epoch
        wire.previousHash = Data(previousHash)
        wire.action = WireRoomStatement.Action(rawValue: Int(action.rawValue)) ?? .unspecified
        wire.author = author
        wire.authorIdentity = authorIdentity.wire
        wire.subject = subject
        wire.subjectFingerprint = Data(subjectFingerprint.bytes)
        wire.signature = Data(signature)
        return wire
    }

    public var serialized: [UInt8] { wire.encodedBytes }

    /// What the author signs (PROTOCOL.md 13.2).
    public var signedBytes: [UInt8] {
        Self.signedBytes(
            room: room, epoch: epoch, previousHash: previousHash, action: action, author: author,
            authorFingerprint: authorIdentity.fingerprint, subject: subject, subjectFingerprint: subjectFingerprint
        )
    }

    /// `SHA-256(signed bytes)`: what the next statement names as its previous hash.
    public var hash: [UInt8] { Array(SHA256.hash(data: signedBytes)) }

    static func signedBytes(
        room: String, epoch: UInt64, previousHash: [UInt8], action: Action, author: String,
        authorFingerprint: Fingerprint, subject: String, subjectFingerprint: Fingerprint
    ) -> [UInt8] {
        var out = CanonicalBytes(label: Label.roomStatement)
        out.field(Array(room.utf8))
        out.uint64(epoch)
        out.field(previousHash)
        out.uint32(action.rawValue)
        out.field(Array(author.utf8))
        out.field(authorFingerprint.bytes)
        out.field(Array(subject.utf8))
        out.field(subjectFingerprint.bytes)
        return out.bytes
    }

    private static func fieldsAreValid(room: String, epoch: UInt64, previousHash: [UInt8], author: String, subject: String) -> Bool {
        RoomName.isValid(room) && epoch >= 1 && previousHash.count == hashSize && Username.isValid(author) && Username.isValid(subject)
    }
}

extension RoomStatement: CustomStringConvertible {
    public var description: String {
        "RoomStatement(\(room) epoch \(epoch): \(author) \(action) \(subject))"
    }
}

/// Consecutive statements of one room, as the relay passes them on.
public enum RoomChain {
    /// At most this many statements in a room's chain: each membership change is one, and the
    /// whole chain must fit in one frame for a member who joins.
    public static let maxStatements = 1024
    /// A `RoomChain` or `RoomEnvelope` encoding decoded alone is at most this long: the most
    /// statements, each of the largest size with its field header (at most 4 bytes), and 1024
    /// bytes for the envelope's room and sender names with theirs. So a room whose authors use
    /// 4096-bit keys can still hand its whole chain to a member who joins (8,393,728 bytes).
    public static let maxSerializedSize = maxStatements * (RoomStatement.maxSerializedSize + 4) + 1024

    /// Decodes and checks every statement of a chain, in order.
    public static func statements(of wire: WireRoomChain) throws(RoomMembershipError) -> [RoomStatement] {
        guard wire.statements.count <= maxStatements else { throw .malformed }
        var statements: [RoomStatement] = []
        statements.reserveCapacity(wire.statements.count)
        for statement in wire.statements { statements.append(try RoomStatement(wire: statement)) }
        return statements
    }

    public static func wire(_ statements: [RoomStatement]) -> WireRoomChain {
        var chain = WireRoomChain()
        chain.statements = statements.map(\.wire)
        return chain
    }
}
