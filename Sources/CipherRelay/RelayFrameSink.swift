import CipherWire

/// Where a `RelayConnection` puts the frames for its client. The network adapter implements
/// it on the connection's channel. `send` may be called from any thread (a commit finishing on
/// the store's writer acknowledges a sender from there) and keeps the order of calls made from
/// one thread; `close` sends what was sent before it, then ends the connection.
public protocol RelayFrameSink: Sendable {
    func send(_ frame: WireServerFrame)
    func close()
}
