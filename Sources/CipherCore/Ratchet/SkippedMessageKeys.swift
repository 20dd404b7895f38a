import Crypto

/// Message keys of messages not yet received, kept so that late messages still decrypt
/// (PROTOCOL.md 6.5). Bounded twice: no chain may skip more than `maxSkipPerChain` at once, and
/// no more than `maxTotal` are kept, the oldest evicted first.
struct SkippedMessageKeys: Sendable {
    static let maxSkipPerChain: UInt32 = 1000
    static let maxTotal = 2000

    struct Slot: Hashable, Sendable {
        let ratchetKey: [UInt8]
        let messageNumber: UInt32
    }

    private(set) var order: [Slot] = []
    private var keys: [Slot: SymmetricKey] = [:]

    var count: Int { order.count }

    mutating func insert(_ key: SymmetricKey, for slot: Slot) {
        if keys.updateValue(key, forKey: slot) == nil {
            order.append(slot)
        }
        if order.count > Self.maxTotal {
            let evicted = order.popFront(order.count - Self.maxTotal)
            for slot in evicted { keys[slot] = nil }
        }
    }

    /// Removes and returns the key: a message key is used once.
    mutating func take(_ slot: Slot) -> SymmetricKey? {
        guard let key = keys.removeValue(forKey: slot) else { return nil }
        order.removeAll { $0 == slot }
        return key
    }

    var entries: [(slot: Slot, key: SymmetricKey)] {
        order.compactMap { slot in keys[slot].map { (slot, $0) } }
    }
}

private extension Array {
    mutating func popFront(_ count: Int) -> ArraySlice<Element> {
        let removed = self[..<count]
        self.removeSubrange(..<count)
        return removed
    }
}
