import Foundation

/// Runs blocking work (a child process's output, a wait for a lock) on a thread of its own.
/// On one of the few cooperative threads it would hold up the tasks it waits for, and under a
/// busy suite every other test's tasks too.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}
