import Foundation

/// Runs blocking work (a wait on a socket, a child process's output, a wait for a lock) on a
/// thread of its own. Parked on one of the few cooperative threads, it could hold up the very
/// tasks it waits for, and with them every other task of the process.
package func onOwnThread<T>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let box: UncheckedBox<T> = try await withCheckedThrowingContinuation { continuation in
        Thread {
            do {
                continuation.resume(returning: UncheckedBox(try body()))
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
    return box.value
}

/// A value handed from the thread that made it to the one task that waits for it; never
/// shared, which is what makes the unchecked `Sendable` sound.
package struct UncheckedBox<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
