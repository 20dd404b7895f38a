import CipherRelay
import Synchronization
import Testing

/// `Deadline` waits at most until its deadline, even for work that ignores cancellation.
@Suite("Waiting with a deadline")
struct DeadlineTests {
    @Test("work that never ends and ignores cancellation is left behind at the deadline")
    func workLeftBehind() async throws {
        let parked = Parked()
        let started = ContinuousClock.now
        let result = try await Deadline.result(by: .now + .milliseconds(200)) {
            await parked.wait()
            return 1
        }
        #expect(result == nil)
        // Generous: the point is that it returns at all.
        #expect(ContinuousClock.now - started < .seconds(120))
        parked.release()
    }

    @Test("work that finishes in time gives its result or its error")
    func workInTime() async throws {
        let value = try await Deadline.result(by: .now + .seconds(60)) { 42 }
        #expect(value == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) {
            _ = try await Deadline.result(by: .now + .seconds(60)) { () async throws -> Int in throw Failure() }
        }
        #expect(await Deadline.finishes(by: .now + .seconds(60)) {})
    }

    @Test("a cancelled waiter stops waiting")
    func cancelledWaiter() async throws {
        let parked = Parked()
        let waiter = Task {
            try await Deadline.result(by: .now + .seconds(3600)) {
                await parked.wait()
                return 1
            }
        }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiter.value }
        parked.release()
    }
}

/// Work that waits until released, whatever cancellation says.
private final class Parked: Sendable {
    private let waiters = Mutex<(released: Bool, continuations: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = waiters.withLock { state in
                if state.released { return true }
                state.continuations.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func release() {
        let continuations = waiters.withLock { state in
            state.released = true
            defer { state.continuations = [] }
            return state.continuations
        }
        for continuation in continuations { continuation.resume() }
    }
}
