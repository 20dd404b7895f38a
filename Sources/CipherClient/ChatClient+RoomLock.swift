import Synchronization

/// A lock held across suspension points. `ChatClient` is an actor, but applying a membership
/// change awaits the relay (its answer, bundles, key distributions): without this, a delivery
/// handled in the meantime, or a message sent, could work from the room's state before the
/// change. A key from a member who has just joined could be refused because the change that
/// let it in is still waiting for the relay's answer, and a message could go out under a chain
/// a removed member holds. Taking it uncontended does not suspend.
final class RoomLock: Sendable {
    private let state = Mutex<(held: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func acquire() async {
        let taken = state.withLock { state in
            guard !state.held else { return false }
            state.held = true
            return true
        }
        guard !taken else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state in
                guard state.held else {
                    state.held = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Hands the lock to the next waiter, if any.
    func release() {
        let next: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

extension ChatClient {
    /// Runs `body` holding the room lock. Not reentrant: `body` must not take it again.
    func withRoomLock<Value>(_ body: () async throws -> Value) async throws -> Value {
        await roomLock.acquire()
        defer { roomLock.release() }
        return try await body()
    }
}
