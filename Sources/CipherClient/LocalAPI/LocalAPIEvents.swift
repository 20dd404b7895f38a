/// Hands what happens in the owner to every local API connection that subscribed: each gets
/// its own stream of notification lines. A subscriber that does not read loses the oldest
/// notifications beyond `bufferLimit` rather than growing the owner without bound.
public actor LocalAPIEvents {
    private var subscribers: [Int: AsyncStream<String>.Continuation] = [:]
    private var nextSubscriber = 0
    public static let bufferLimit = 10_000

    /// How many received messages were published: `recv` through the owner waits for it to grow.
    private(set) var messagesPublished = 0
    private var messageWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    /// Returns once more than `count` messages were published, or after `seconds`.
    func waitForMessage(after count: Int, seconds: Double) async {
        guard messagesPublished <= count, seconds > 0 else { return }
        nextWaiter += 1
        let id = nextWaiter
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .seconds(seconds))
            await self?.wake(id)
        }
        await withCheckedContinuation { continuation in messageWaiters[id] = continuation }
        timer.cancel()
    }

    private func wake(_ id: Int) {
        messageWaiters.removeValue(forKey: id)?.resume()
    }

    /// A stream of notification lines until `unsubscribe` or `finish`.
    func subscribe() -> (id: Int, lines: AsyncStream<String>) {
        let (lines, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(Self.bufferLimit))
        nextSubscriber += 1
        subscribers[nextSubscriber] = continuation
        return (nextSubscriber, lines)
    }

    func unsubscribe(_ id: Int) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    /// Publishes a client event as a JSON-RPC notification (docs/API.md, "Notifications").
    public func publish(_ event: ClientEvent) {
        switch event {
        case .message(let record):
            notify("receive", record.jsonObject)
            messagesPublished += 1
            let waiters = messageWaiters.values
            messageWaiters.removeAll()
            for waiter in waiters { waiter.resume() }
        case .warning(let text): notify("warning", ["text": text])
        case .connected(let queued): notify("connection", ["state": "connected", "queued": queued])
        case .disconnected(let retry): notify("connection", ["state": "disconnected", "retry_in_seconds": retry])
        case .deliveryHandled: break
        }
    }

    /// A message this owner sent, whoever asked for it (the chat, a script): every
    /// subscriber sees it, as the person at another terminal would.
    public func publishSent(_ record: ChatRecord) {
        notify("sent", record.jsonObject)
    }

    private func notify(_ method: String, _ params: [String: Any]) {
        guard !subscribers.isEmpty else { return }
        let line = JSONLine.encode(["jsonrpc": "2.0", "method": method, "params": params])
        for continuation in subscribers.values { continuation.yield(line) }
    }

    public func finish() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        for waiter in messageWaiters.values { waiter.resume() }
        messageWaiters.removeAll()
    }
}
