import CipherCore
import Foundation

/// Keeping what was sent, for a contact who could not decrypt it (SentLog.swift).
extension ChatClient {
    static let sentLogKind = "sent-log"
    static let sentPayloadKind = "sent"

    static func sentPayloadName(_ contact: String, slot: UInt16) -> String { "\(contact) \(slot)" }

    func sentLog(for contact: String) throws -> SentLog {
        try store.item(Self.sentLogKind, contact).map(SentLog.init(decoding:)) ?? SentLog()
    }

    /// Adds `payload`, sent to `contact` in the session with base key `baseKey` as `envelope`,
    /// to `log`, with the payload's item and the slots it drops in `changes`. The caller puts
    /// the log into `changes` once, after its last addition.
    func logSent(
        _ payload: Payload, envelope: [UInt8], baseKey: [UInt8], to contact: String,
        log: inout SentLog, into changes: inout StoreChanges
    ) throws {
        let (slot, dropped) = log.add(
            digest: DecryptionFailureNotice.envelopeDigest(envelope), baseKey: baseKey, now: Self.nowMilliseconds
        )
        changes.put(Self.sentPayloadKind, Self.sentPayloadName(contact, slot: slot), try payload.encoded())
        for old in dropped { changes.delete(Self.sentPayloadKind, Self.sentPayloadName(contact, slot: old)) }
    }

    /// Logs one payload sent to `contact`, with the log itself, into `changes`.
    func logSent(_ payload: Payload, envelope: [UInt8], session: Session, to contact: String, into changes: inout StoreChanges) throws {
        var log = try sentLog(for: contact)
        try logSent(payload, envelope: envelope, baseKey: session.baseKey, to: contact, log: &log, into: &changes)
        changes.put(Self.sentLogKind, contact, log.encoded())
    }
}
