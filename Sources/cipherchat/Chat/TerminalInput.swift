#if canImport(Glibc)
@preconcurrency import Dispatch
import Glibc
#elseif canImport(Darwin)
import Darwin
import Dispatch
#endif

/// Keys from standard input, and the signals the full-screen interface cares about (SIGWINCH
/// for a resize; SIGINT, SIGTERM, SIGHUP to leave with the terminal restored), delivered as
/// `ChatInput`s through dispatch sources on one serial queue. `stop()` cancels them.
final class TerminalInput: @unchecked Sendable {
    // @unchecked: `sources` is set once in `start`, before any handler runs, and only read after;
    // `keyboard` is touched only on `queue`.
    private let queue = DispatchQueue(label: "cipherchat.terminal-input")
    private var sources: [any DispatchSourceProtocol] = []
    private var keyboard = KeyDecoder()
    /// Counts reads, so that a flush scheduled after one read is dropped when another came.
    private var reads = 0
    private let deliver: @Sendable (ChatInput) -> Void

    /// How long an escape byte waits for the rest of its sequence before it counts as the
    /// escape key: terminals send a sequence in one write, so this is generous.
    static let escapeTimeout = DispatchTimeInterval.milliseconds(50)

    private init(deliver: @escaping @Sendable (ChatInput) -> Void) {
        self.deliver = deliver
    }

    /// Starts reading; returns once the signal handlers are in place, so that a SIGTERM from
    /// then on restores the terminal instead of killing the process with it in raw mode.
    static func start(deliver: @escaping @Sendable (ChatInput) -> Void) async -> TerminalInput {
        let input = TerminalInput(deliver: deliver)
        let keyboard = DispatchSource.makeReadSource(fileDescriptor: STDIN_FILENO, queue: input.queue)
        keyboard.setEventHandler { [weak input] in input?.readKeys() }
        var signals: [any DispatchSourceSignal] = []
        let handled = [(SIGWINCH, ChatInput.resize), (SIGINT, .terminate), (SIGTERM, .terminate), (SIGHUP, .terminate)]
        for (number, message) in handled {
            #if canImport(Darwin)
            // kqueue sees signals only when their ordinary delivery is ignored. Linux's
            // libdispatch installs its own handler and must not be told to ignore them.
            signal(number, SIG_IGN)
            #endif
            let source = DispatchSource.makeSignalSource(signal: number, queue: input.queue)
            source.setEventHandler { deliver(message) }
            signals.append(source)
        }
        input.sources = [keyboard] + signals
        keyboard.resume()
        for source in signals {
            await withCheckedContinuation { (registered: CheckedContinuation<Void, Never>) in
                source.setRegistrationHandler { registered.resume() }
                source.resume()
            }
        }
        return input
    }

    func stop() {
        for source in sources { source.cancel() }
    }

    /// On `queue`.
    private func readKeys() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR || errno == EAGAIN { return }
        guard count > 0 else {
            // The terminal hung up: nobody is left to type.
            sources.first?.cancel()
            deliver(.terminate)
            return
        }
        reads += 1
        let keys = keyboard.decode(buffer[..<count])
        if !keys.isEmpty { deliver(.keys(keys)) }
        guard keyboard.hasPending else { return }
        let readNumber = reads
        queue.asyncAfter(deadline: .now() + Self.escapeTimeout) { [weak self] in
            guard let self, self.reads == readNumber else { return }
            let keys = self.keyboard.flush()
            if !keys.isEmpty { self.deliver(.keys(keys)) }
        }
    }
}
