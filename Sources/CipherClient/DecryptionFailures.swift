import CipherCore
import Foundation

/// The envelopes from one contact that this client could not decrypt since it last decrypted
/// one of theirs, and when it last asked them to send again (PROTOCOL.md 7.3). Kept sealed as
/// the `decryption-failures` item of the contact (PROTOCOL.md 10.2), deleted in the commit of
/// the contact's next message that decrypts.
struct DecryptionFailures: Codable, Sendable, Hashable {
    /// Envelope digests in hex, oldest first, at most `DecryptionFailureNotice.maxDigests`.
    var digests: [String] = []
    /// When the last notice went into the outbox; absent when none is outstanding.
    var noticeSentAtMilliseconds: UInt64?
    /// When sending a notice last failed (the contact's bundle could not be had); absent when
    /// it did not. Not tried again within the hour either: each failure would fetch a bundle.
    var noticeFailedAtMilliseconds: UInt64?

    mutating func add(_ digest: [UInt8]) {
        let hex = Hex.encode(digest)
        guard !digests.contains(hex) else { return }
        digests.append(hex)
        if digests.count > DecryptionFailureNotice.maxDigests { digests.removeFirst(digests.count - DecryptionFailureNotice.maxDigests) }
    }

    var notice: DecryptionFailureNotice {
        DecryptionFailureNotice(envelopeDigests: digests.compactMap(Hex.decode))
    }

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    static func decode(_ bytes: [UInt8]) throws -> DecryptionFailures {
        try JSONDecoder().decode(DecryptionFailures.self, from: Data(bytes))
    }
}
