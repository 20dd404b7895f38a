import CipherCore

/// What `recv` has printed (docs/API.md, "recv through the owner"): the home keeps the history
/// sequence up to which a `recv` printed what arrived, so that a `recv` through an owner prints
/// what came since, once, and a `recv` run alone and then one through a daemon do not print the
/// same message twice. The owner is the only writer of the setting, as of everything else.
extension ChatClient {
    /// The records received (not sent by this user) since the last `recv`, oldest first, at
    /// most `limit`; the cursor moves past every record read, including this user's own.
    public func takeUnprinted(limit: Int) throws -> [ChatRecord] {
        let cursor = try store.setting(ClientStore.recvCursorSetting).flatMap { Int64($0) } ?? 0
        let rows = try store.history(after: cursor, limit: limit)
        guard let last = rows.last else { return [] }
        try store.setSetting(ClientStore.recvCursorSetting, String(last.sequence))
        return try rows.map { try ChatRecord.fromJSON($0.record) }.filter { $0.from != username }
    }

    /// Marks everything in the history as printed: `recv` run alone calls it before it ends,
    /// since it printed what it received itself.
    public func markAllPrinted() throws {
        try store.setSetting(ClientStore.recvCursorSetting, String(try store.latestHistorySequence()))
    }
}
