import CipherWire
import Foundation

/// The message ids a receiver accepted most recently (PROTOCOL.md 7.2). A payload whose id is
/// in the window is a duplicate (a resent envelope, a replayed prekey message) and is dropped.
/// Bounded: the oldest id leaves when a new one arrives at capacity.
public struct ReplayWindow: Sendable, Hashable {
    public static let defaultCapacity = 4096

    public let capacity: Int
    private var order: [[UInt8]] = []
    private var members: Set<[UInt8]> = []

    public init(capacity: Int = ReplayWindow.defaultCapacity) {
        self.capacity = capacity
    }

    public func contains(_ messageID: [UInt8]) -> Bool { members.contains(messageID) }

    /// The ids in the window, oldest first.
    public var messageIDs: [[UInt8]] { order }

    /// Records `messageID`; false when it was already there.
    @discardableResult
    public mutating func insert(_ messageID: [UInt8]) -> Bool {
        guard members.insert(messageID).inserted else { return false }
        order.append(messageID)
        if order.count > capacity {
            members.remove(order.removeFirst())
        }
        return true
    }

    /// The stored form (PROTOCOL.md 10), kept by the client per contact and per (room, sender).
    public func serialized() -> [UInt8] {
        var wire = WireReplayWindowState()
        wire.messageIds = order.map { Data($0) }
        return wire.encodedBytes
    }

    public init(serialized bytes: some Collection<UInt8>, capacity: Int = ReplayWindow.defaultCapacity) throws(DecryptionError) {
        let wire: WireReplayWindowState
        do {
            wire = try WireReplayWindowState(boundedBytes: bytes, maxSize: capacity * (Payload.messageIDSize + 2) + 16)
        } catch {
            throw .malformed
        }
        guard wire.messageIds.count <= capacity,
              wire.messageIds.allSatisfy({ $0.count == Payload.messageIDSize }) else { throw .malformed }
        self.init(capacity: capacity)
        for id in wire.messageIds { insert(Array(id)) }
    }
}
