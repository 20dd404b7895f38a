import Synchronization

/// Waits for work that may never finish — a call into a store whose database is gone — at most
/// until a deadline. The work runs in a task of its own, so a caller is never held by a call
/// that ignores cancellation (postgres-nio waits for a pooled connection without bound while it
/// retries connecting).
public enum Deadline {
    /// The result of `body`, or nil when `deadline` came first. A body still running then is
    /// cancelled and left behind: what it finishes later is dropped, so it must leave nothing
    /// half done that a caller relies on.
    public static func result<T: Sendable>(
        by deadline: ContinuousClock.Instant, of body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation, deadline: deadline, body: body)
            }
        } onCancel: {
            race.end(with: .failure(CancellationError()))
        }
    }

    /// Whether `body` finished by `deadline` (see `result(by:of:)`).
    public static func finishes(by deadline: ContinuousClock.Instant, _ body: @escaping @Sendable () async -> Void) async -> Bool {
        (try? await result(by: deadline) { await body() }) != nil
    }
}

/// The work, a timer, and whoever waits: the first of the work's end, the deadline and the
/// caller's cancellation resumes the waiter and cancels the others.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var waiter: CheckedContinuation<T?, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var ended = false
    }

    private let state = Mutex(State())

    func start(
        _ waiter: CheckedContinuation<T?, any Error>, deadline: ContinuousClock.Instant,
        body: @escaping @Sendable () async throws -> T
    ) {
        let cancelledAlready = state.withLock { state in
            guard !state.ended else { return true }
            state.waiter = waiter
            return false
        }
        guard !cancelledAlready else { return waiter.resume(throwing: CancellationError()) }
        let work = Task { [self] in
            do { end(with: .success(try await body())) } catch { end(with: .failure(error)) }
        }
        let timer = Task { [self] in
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            end(with: .success(nil))
        }
        let endedAlready = state.withLock { state in
            guard !state.ended else { return true }
            state.work = work
            state.timer = timer
            return false
        }
        if endedAlready {
            work.cancel()
            timer.cancel()
        }
    }

    func end(with outcome: Result<T?, any Error>) {
        let taken = state.withLock { state -> State? in
            guard !state.ended else { return nil }
            let taken = state
            state = State(ended: true)
            return taken
        }
        guard let taken else { return }
        taken.work?.cancel()
        taken.timer?.cancel()
        taken.waiter?.resume(with: outcome)
    }
}
