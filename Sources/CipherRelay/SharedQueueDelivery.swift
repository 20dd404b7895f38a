/// Delivers, to the clients connected to this instance, what other instances queued for them:
/// at once on a wake-up from the store, and by a poll every `pollInterval` in case a wake-up
/// was lost. Both only prompt a connection to read the stored queue, which is the truth; a
/// connection sends nothing it has sent already.
public struct SharedQueueDelivery: Sendable {
    let service: RelayService
    let signals: any SharedQueueSignals
    let pollInterval: Duration

    public init(service: RelayService, signals: any SharedQueueSignals, pollInterval: Duration) {
        self.service = service
        self.signals = signals
        self.pollInterval = pollInterval
    }

    /// Runs until cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.followWakeups() }
            group.addTask { await self.poll() }
        }
    }

    private func followWakeups() async {
        for await recipient in signals.queueWakeups {
            await service.deliverQueued(to: recipient)
        }
    }

    private func poll() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: pollInterval)
            let online = service.registry.onlineUsernames
            guard !online.isEmpty, let counts = try? await signals.queuedCounts(among: online) else { continue }
            for (recipient, queued) in counts {
                await service.deliverQueued(to: recipient, queuedCount: queued)
            }
        }
    }
}
