import CipherRelay
import Foundation
import GRDB

/// Conversions between the store's Swift values and SQLite's: blobs are bound as `Data` (GRDB
/// binds no `[UInt8]`), and unsigned integers as `Int64`. GRDB's own `UInt64` conversion traps
/// above `Int64.max`; clamping instead is harmless here, since no timestamp or delivery id
/// comes near it, and a clamped cutoff or cursor still compares the right way.
extension Int64 {
    init(sqlite value: UInt64) { self.init(clamping: value) }
}

extension UInt64 {
    init(sqlite value: Int64) { self.init(clamping: value) }
}

extension Data {
    init(sqlite bytes: [UInt8]) { self.init(bytes) }
}

extension QueuedEnvelope {
    init(row: Row) {
        self.init(
            deliveryID: UInt64(sqlite: row["delivery_id"]),
            sender: row["sender"],
            recipient: row["recipient"],
            clientMessageID: [UInt8](row["client_message_id"] as Data),
            acceptedAtMilliseconds: UInt64(sqlite: row["accepted_at"]),
            envelope: [UInt8](row["envelope"] as Data)
        )
    }
}

extension StoredAccount {
    init(row: Row) {
        self.init(
            username: row["username"],
            identity: [UInt8](row["identity"] as Data),
            registeredAtMilliseconds: UInt64(sqlite: row["registered_at"])
        )
    }
}
