import Crypto

/// The client message id a relay queues a room delivery under (PROTOCOL.md 13.5): what its
/// duplicate check and the members' windows of seen ids compare.
///
/// A member chooses the 16 bytes of a `RoomSend`'s id freely, and a statement's hash can be
/// known before the statement is made (its signature is not hashed). Were the two queued under
/// those bytes as they are, a member could send a message under the id of a statement to come
/// (its own removal, say): the relay would take the statement for a repeat of the message for
/// every member whose queue still held it, and members who had seen the message would drop the
/// statement. Each is therefore hashed under a label of its own, with the room and the sender
/// for a message: ids from the two never meet, nor two members' ids.
public enum RoomDeliveryID {
    public static let size = 16

    /// The id of a member's message: `SHA-256(LP(label) || LP(room) || LP(sender) || LP(id))`,
    /// its first 16 bytes.
    public static func message(room: String, sender: String, clientMessageID: some Collection<UInt8>) -> [UInt8] {
        var input = CanonicalBytes(label: Label.roomMessageID)
        input.field(Array(room.utf8))
        input.field(Array(sender.utf8))
        input.field(clientMessageID)
        return Array(SHA256.hash(data: input.bytes).prefix(size))
    }

    /// The id of a membership statement's delivery (the whole chain to a new member, or the
    /// statement alone to the others): `SHA-256(LP(label) || LP(statement hash))`, its first
    /// 16 bytes.
    public static func statement(hash: some Collection<UInt8>) -> [UInt8] {
        var input = CanonicalBytes(label: Label.roomStatementID)
        input.field(hash)
        return Array(SHA256.hash(data: input.bytes).prefix(size))
    }
}
