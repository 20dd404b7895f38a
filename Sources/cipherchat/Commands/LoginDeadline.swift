import CipherClient
import CipherRelay

/// How long a command waits to connect and log in. A relay that accepts the connection and
/// then says nothing must not hold a command open: every wait of a command has an end.
let loginDeadlineSeconds = 60

extension ChatClient {
    /// `start(receiving:)`, failing with a clear message after `loginDeadlineSeconds`. A login
    /// stuck on a silent relay does not end when cancelled: `Deadline` leaves it behind, and
    /// the command exits after the failure, the login with it.
    func startWithDeadline(receiving: Bool = true) async throws {
        let started: Void? = try await Deadline.result(by: .now + .seconds(loginDeadlineSeconds)) {
            try await self.start(receiving: receiving)
        }
        guard started != nil else {
            throw CommandFailure.failure("the relay did not let this client log in within \(loginDeadlineSeconds) s")
        }
    }
}
