import Synchronization

/// Fired once when the transaction holding a batch (envelopes and deletions) has committed or
/// failed; every `EnqueueTicket` of the batch is completed by it. Shared by the stores that
/// batch their commits (SQLite, PostgreSQL).
public final class CommitSignal: Sendable {
    public typealias Completion = @Sendable (Result<Void, any Error>) -> Void

    private enum State {
        case waiting([Completion])
        case finished(Result<Void, any Error>)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    /// Calls `completion` with the outcome once the batch is settled (at once if it is).
    public func notify(_ completion: @escaping Completion) {
        let outcome: Result<Void, any Error>? = state.withLock { state in
            switch state {
            case .waiting(var waiters):
                state = .waiting([])  // drops the second reference, so the append is in place
                waiters.append(completion)
                state = .waiting(waiters)
                return nil
            case .finished(let outcome):
                return outcome
            }
        }
        if let outcome { completion(outcome) }
    }

    public func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            notify { continuation.resume(with: $0) }
        }
    }

    /// Waits for the commit, ignoring whether it succeeded: for readers that only need the
    /// batch to be settled one way or the other.
    public func settled() async {
        try? await wait()
    }

    public func finish(_ outcome: Result<Void, any Error>) {
        let waiters: [Completion] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .finished(outcome)
            return waiters
        }
        for waiter in waiters { waiter(outcome) }
    }
}
