import Synchronization

/// Fired once when the transaction holding a batch of envelopes has committed or failed;
/// every `EnqueueTicket` of the batch waits on it. Shared by the durable stores' group commit.
public final class CommitSignal: Sendable {
    private enum State {
        case waiting([CheckedContinuation<Void, any Error>])
        case finished(Result<Void, any Error>)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    public func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, any Error>? = state.withLock { state in
                switch state {
                case .waiting(var waiters):
                    waiters.append(continuation)
                    state = .waiting(waiters)
                    return nil
                case .finished(let outcome):
                    return outcome
                }
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }

    /// Waits for the commit, ignoring whether it succeeded: for readers that only need the
    /// batch to be settled one way or the other.
    public func settled() async {
        try? await wait()
    }

    public func finish(_ outcome: Result<Void, any Error>) {
        let waiters: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            guard case .waiting(let waiters) = state else { return [] }
            state = .finished(outcome)
            return waiters
        }
        for waiter in waiters { waiter.resume(with: outcome) }
    }
}
