import CipherCore
import Synchronization

/// Each room's checked membership, kept in memory so that a change costs the checks of its own
/// statement rather than of the room's whole log (PROTOCOL.md 13.4).
///
/// An entry is the membership after the first `statementCount` statements of the room's stored
/// log. The log only grows, so an entry never turns false, only short: a relay that finds more
/// statements stored than its entry covers (another instance on the same store appended them,
/// or this process has not seen the room yet) checks only those, once. The store stays the one
/// record, and its epoch check the arbiter between writers.
final class RoomMemberships: Sendable {
    struct Checked: Sendable {
        let membership: RoomMembership
        let statementCount: Int
    }

    /// Rooms kept at once: a membership holds up to 1000 members, so the bound keeps memory in
    /// check. An evicted room is checked again, at the cost of whoever next changes it.
    static let capacity = 1024

    private let rooms = Mutex<[String: Checked]>([:])

    func checked(_ room: String) -> Checked? {
        rooms.withLock { $0[room] }
    }

    /// Keeps `checked` unless an entry covering as much is kept already.
    func keep(_ checked: Checked, for room: String) {
        rooms.withLock { rooms in
            if let kept = rooms[room], kept.statementCount >= checked.statementCount { return }
            if rooms[room] == nil, rooms.count >= Self.capacity { rooms.remove(at: rooms.startIndex) }
            rooms[room] = checked
        }
    }
}
