/// A lock held across suspension points. `ChatClient` is an actor, but applying a membership
/// change awaits the relay (bundles, key distributions): without this, a delivery handled in
/// the meantime, or a message sent, could work from the room's state before the change, and a
/// message could go out under a chain a removed member holds.
actor RoomLock {
    private var held = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard held else {
            held = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            held = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

extension ChatClient {
    /// Runs `body` holding the room lock. Not reentrant: `body` must not take it again.
    func withRoomLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        await roomLock.acquire()
        do {
            let value = try await body()
            await roomLock.release()
            return value
        } catch {
            await roomLock.release()
            throw error
        }
    }
}
