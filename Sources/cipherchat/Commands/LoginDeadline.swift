import CipherClient
import Synchronization

/// How long a command waits to connect and log in. A relay that accepts the connection and
/// then says nothing must not hold a command open: every wait of a command has an end.
let loginDeadlineSeconds = 60.0

extension ChatClient {
    /// `start(receiving:)`, failing with a clear message after `loginDeadlineSeconds`. Not a
    /// task group: a group waits for its children, and a login stuck on a silent relay does
    /// not end when cancelled. The command exits after the failure, and the login with it.
    func startWithDeadline(receiving: Bool = true) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = FirstOutcome(continuation)
            Task {
                do {
                    try await self.start(receiving: receiving)
                    outcome.settle(.success(()))
                } catch {
                    outcome.settle(.failure(error))
                }
            }
            Task {
                try? await Task.sleep(for: .milliseconds(Int(loginDeadlineSeconds * 1000)))
                outcome.settle(.failure(CommandFailure.failure(
                    "the relay did not let this client log in within \(Int(loginDeadlineSeconds)) s"
                )))
            }
        }
    }
}

/// Resumes a continuation with the first outcome given, and ignores the rest.
private final class FirstOutcome: Sendable {
    private let continuation: Mutex<CheckedContinuation<Void, any Error>?>

    init(_ continuation: CheckedContinuation<Void, any Error>) {
        self.continuation = Mutex(continuation)
    }

    func settle(_ outcome: Result<Void, any Error>) {
        continuation.withLock { $0.take() }?.resume(with: outcome)
    }
}
