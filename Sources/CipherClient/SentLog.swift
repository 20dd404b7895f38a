import CipherCore
import Foundation

/// The pairwise payloads this client sent a contact lately, by envelope digest, so that it can
/// send them again when the contact says it could not decrypt them (PROTOCOL.md 7.3). The index
/// is one sealed item per contact (`sent-log`, PROTOCOL.md 10.2); each payload is an item of its
/// own (`sent`), in one of `capacity` slots used in turn, so a send rewrites a small index and
/// one slot, never the whole log. Payloads only: no key or ratchet state is ever kept here.
struct SentLog: Sendable, Hashable {
    /// At most this many payloads per contact, and none older than `maxAgeMilliseconds`.
    static let capacity = 256
    static let maxAgeMilliseconds: UInt64 = 7 * 86_400_000
    /// The first bytes of the sending session's base key: which payloads went in one session.
    static let sessionTagSize = 8
    static let entrySize = 2 + DecryptionFailureNotice.digestSize + sessionTagSize + 8

    struct Entry: Sendable, Hashable {
        var slot: UInt16
        var digest: [UInt8]
        var sessionTag: [UInt8]
        var sentAtMilliseconds: UInt64
    }

    /// How many payloads were ever logged: the next slot is `next % capacity`.
    var next: UInt64 = 0
    /// When a notice from this contact was last acted on (0 for never): at most one a
    /// `ChatClient.noticeHonourIntervalMilliseconds`.
    var lastNoticeHonouredAtMilliseconds: UInt64 = 0
    /// Oldest first.
    var entries: [Entry] = []

    init() {}

    /// `u64(next) || u64(last honoured)`, then each entry as `u16(slot) || digest (32) ||
    /// session tag (8) || u64(sent at)`, oldest first.
    func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + entries.count * Self.entrySize)
        bytes.appendBigEndian(next)
        bytes.appendBigEndian(lastNoticeHonouredAtMilliseconds)
        for entry in entries {
            bytes.append(UInt8(entry.slot >> 8))
            bytes.append(UInt8(entry.slot & 0xff))
            bytes += entry.digest
            bytes += entry.sessionTag
            bytes.appendBigEndian(entry.sentAtMilliseconds)
        }
        return bytes
    }

    init(decoding bytes: [UInt8]) throws {
        guard bytes.count >= 16, (bytes.count - 16) % Self.entrySize == 0,
              (bytes.count - 16) / Self.entrySize <= Self.capacity else { throw ClientError.storeCorrupted }
        next = bytes.bigEndianUInt64(at: 0)
        lastNoticeHonouredAtMilliseconds = bytes.bigEndianUInt64(at: 8)
        var offset = 16
        while offset < bytes.count {
            let slot = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
            guard Int(slot) < Self.capacity else { throw ClientError.storeCorrupted }
            let digestEnd = offset + 2 + DecryptionFailureNotice.digestSize
            entries.append(Entry(
                slot: slot, digest: Array(bytes[offset + 2..<digestEnd]),
                sessionTag: Array(bytes[digestEnd..<digestEnd + Self.sessionTagSize]),
                sentAtMilliseconds: bytes.bigEndianUInt64(at: digestEnd + Self.sessionTagSize)
            ))
            offset += Self.entrySize
        }
    }

    /// Logs one payload sent in the session whose base key is `baseKey`; returns its slot and
    /// the slots whose payloads are dropped (overwritten, or older than the log keeps).
    mutating func add(digest: [UInt8], baseKey: [UInt8], now: UInt64) -> (slot: UInt16, dropped: [UInt16]) {
        let slot = UInt16(next % UInt64(Self.capacity))
        next &+= 1
        var dropped: [UInt16] = []
        entries.removeAll { entry in
            let drop = entry.slot == slot || now &- entry.sentAtMilliseconds > Self.maxAgeMilliseconds
            if drop, entry.slot != slot { dropped.append(entry.slot) }
            return drop
        }
        entries.append(Entry(slot: slot, digest: digest, sessionTag: Array(baseKey.prefix(Self.sessionTagSize)), sentAtMilliseconds: now))
        return (slot, dropped)
    }

    /// What a notice naming `digests` asks to send again: every payload of each session that
    /// one of the digests names, from the first one named on. A session that failed from one
    /// message on failed for the ones after it too, and the contact cannot name envelopes it
    /// received after sending its notice; a payload it did read is dropped there as a repeat
    /// (PROTOCOL.md 7.2). Digests not in the log, and payloads older than the log keeps, are
    /// ignored.
    func entriesToResend(for digests: [[UInt8]], now: UInt64) -> [Entry] {
        let named = Set(digests)
        var firstNamed: [[UInt8]: Int] = [:]
        for (index, entry) in entries.enumerated() where named.contains(entry.digest) && firstNamed[entry.sessionTag] == nil {
            firstNamed[entry.sessionTag] = index
        }
        return entries.enumerated().filter { index, entry in
            guard let first = firstNamed[entry.sessionTag] else { return false }
            return index >= first && now &- entry.sentAtMilliseconds <= Self.maxAgeMilliseconds
        }.map(\.element)
    }
}

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    fileprivate func bigEndianUInt64(at offset: Int) -> UInt64 {
        self[offset..<offset + 8].reduce(0) { $0 << 8 | UInt64($1) }
    }
}
