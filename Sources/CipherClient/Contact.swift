import CipherCore
import Foundation

/// A correspondent as this client knows them: the identity pinned on first use, whether the
/// user verified it by safety number, and a changed identity awaiting `trust`.
struct Contact: Codable, Sendable, Hashable {
    var username: String
    /// The pinned `PublicIdentity` encoding, hex.
    var identity: String
    var verified: Bool
    /// A different identity this contact presented, refused until the user trusts it.
    var pendingIdentity: String?

    func publicIdentity() throws -> PublicIdentity {
        guard let bytes = Hex.decode(identity) else { throw ClientError.storeCorrupted }
        return try PublicIdentity(serialized: bytes)
    }

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> Contact {
        try JSONDecoder().decode(Contact.self, from: Data(bytes))
    }
}

/// Who the client will send to (PROTOCOL.md 12.6).
public enum TrustPolicy: String, Sendable, CaseIterable {
    /// Pin a contact's identity the first time it is seen; refuse a change until trusted.
    case trustOnFirstUse = "tofu"
    /// Send only to contacts verified by safety number.
    case verifiedOnly = "verified"
}

/// A message as the client shows it and keeps it in its history.
public struct ChatRecord: Codable, Sendable, Hashable {
    public let id: String
    public let from: String
    public let to: String
    public let sentAtMilliseconds: UInt64
    public let receivedAtMilliseconds: UInt64
    public let kind: String
    public let text: String
    public let verified: Bool
    /// The room, for a message to a room or a membership change (kind `membership`).
    public var room: String? = nil
    /// For kind `membership`: what changed.
    public var membership: MembershipChange? = nil
    /// For kind `file`: the file offered, as `file get` names it.
    public var file: OfferedFile? = nil
}

/// A file offered in a message: its id for `file get`, the sender's name for it (untrusted
/// text), and its size in bytes.
public struct OfferedFile: Codable, Sendable, Hashable {
    public let id: String
    public let name: String
    public let size: UInt64
}

/// A change to a room's membership, as shown and kept in the history.
public struct MembershipChange: Codable, Sendable, Hashable {
    /// `create`, `invite`, `remove`, `leave` or `grant-admin`.
    public let action: String
    /// Who made the change.
    public let by: String
    /// Whom it is about (the author for `create` and `leave`).
    public let member: String
    public let epoch: UInt64
}

/// What a running client reports.
public enum ClientEvent: Sendable, Hashable {
    case message(ChatRecord)
    case warning(String)
    case connected(queued: Int)
    case disconnected(retryInSeconds: Double)
    /// One delivery from the relay was handled (shown, dropped as a repeat, or refused).
    case deliveryHandled
}
