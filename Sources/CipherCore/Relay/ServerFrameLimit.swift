/// The largest frame a client accepts from a relay (PROTOCOL.md 12.1).
///
/// The largest thing a conforming relay sends is a room's whole chain to a member who joins, in
/// one `Delivery`; every other frame (a session envelope, a file chunk of at most 1 MiB) is
/// smaller. A larger frame is refused before any of it is buffered.
public enum ServerFrameLimit {
    /// The largest room envelope, and 1024 bytes for the delivery's other fields and the frame's
    /// own field headers (8,394,752 bytes).
    public static let maxSize = RoomChain.maxSerializedSize + 1024
}
