import Synchronization

/// Runs `body`, giving up after `timeout`. Unlike a task group, this does not wait for a
/// body that ignores cancellation (a relay request whose answer never comes): the bench
/// reports the stall and moves on, and closing the connection ends the orphaned task.
func within<Value: Sendable>(
    _ timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let once = ResumeOnce<Value>()
    return try await withCheckedThrowingContinuation { continuation in
        once.set(continuation)
        Task {
            do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: timeout)
            once.resume(.failure(BenchFailure(description: "\(what) did not finish within \(timeout)")))
        }
    }
}

private final class ResumeOnce<Value: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<Value, any Error>?>(nil)

    func set(_ value: CheckedContinuation<Value, any Error>) { continuation.withLock { $0 = value } }

    func resume(_ result: Result<Value, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: result)
    }
}
