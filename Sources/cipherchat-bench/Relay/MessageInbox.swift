import CipherClient
import Foundation

/// The texts one `ChatClient` yields, in order, for a bench that waits for a particular one.
/// Every wait has a timeout, so a lost message ends the bench with an error, not a hang.
actor MessageInbox {
    private var buffered: [String] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<String?, Never>)?
    private var nextWaiterID = 0

    init() {}

    func follow(_ client: ChatClient) {
        let events = client.events
        Task {
            for await event in events {
                if case .message(let record) = event { self.deliver(record.text) }
            }
        }
    }

    private func deliver(_ text: String) {
        if let waiter {
            self.waiter = nil
            waiter.continuation.resume(returning: text)
        } else {
            buffered.append(text)
        }
    }

    /// The next text, or nil after `timeout`.
    func next(timeout: Duration = .seconds(10)) async -> String? {
        if !buffered.isEmpty { return buffered.removeFirst() }
        nextWaiterID += 1
        let id = nextWaiterID
        return await withCheckedContinuation { continuation in
            waiter = (id, continuation)
            Task {
                try? await Task.sleep(for: timeout)
                self.expire(id)
            }
        }
    }

    private func expire(_ id: Int) {
        guard let waiter, waiter.id == id else { return }
        self.waiter = nil
        waiter.continuation.resume(returning: nil)
    }

    /// Waits for `text`, skipping anything else; throws after `timeout`.
    func expect(_ text: String, timeout: Duration = .seconds(10)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            guard let received = await next(timeout: clock.now.duration(to: deadline)) else { break }
            if received == text { return }
        }
        throw BenchFailure(description: "a message did not arrive within \(timeout)")
    }
}
