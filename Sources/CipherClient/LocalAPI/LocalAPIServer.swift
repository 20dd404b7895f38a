import Foundation
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The owner's local API: JSON-RPC 2.0, one object a line, on a Unix domain socket in the home
/// (`cipherchat.sock`, mode 0600, in a 0700 home). A connection from a process of another user
/// is refused by its `SO_PEERCRED` uid, even if the permissions were loosened. There is no TCP
/// listener. Requests on one connection are answered in order; a script wanting several at
/// once opens several connections.
public final class LocalAPIServer: Sendable {
    public static let socketName = "cipherchat.sock"
    /// A request line is a message and its envelope: well under this.
    static let maxLineBytes = 1 << 20

    public let socketPath: String
    private let serverChannel: NIOAsyncChannel<AcceptedConnection, Never>
    private let serving: Task<Void, Never>

    struct AcceptedConnection: Sendable {
        let peerUID: UInt32?
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    }

    /// Starts serving `methods` on `HOME/cipherchat.sock`. The caller owns the home (HomeOwnership),
    /// so a socket file left there by an owner that died is stale and is replaced.
    public static func start(
        methods: LocalAPIMethods, events: LocalAPIEvents, home: String, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> LocalAPIServer {
        let path = (home as NSString).appendingPathComponent(socketName)
        let serverChannel = try await ServerBootstrap(group: group)
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                peerUID(of: channel).flatMapThrowing { uid in
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLineBytes: maxLineBytes)))
                    return AcceptedConnection(peerUID: uid, channel: try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                }
            }
        guard chmod(path, 0o600) == 0 else {
            try? await serverChannel.channel.close()
            throw ClientError.homeUnusable(home, reason: "cannot restrict \(socketName)")
        }
        let serving = Task<Void, Never> {
            try? await serverChannel.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await serve(connection, methods: methods, events: events, logger: logger) }
                    }
                }
            }
        }
        return LocalAPIServer(socketPath: path, serverChannel: serverChannel, serving: serving)
    }

    private init(socketPath: String, serverChannel: NIOAsyncChannel<AcceptedConnection, Never>, serving: Task<Void, Never>) {
        self.socketPath = socketPath
        self.serverChannel = serverChannel
        self.serving = serving
    }

    /// Stops accepting, closes every connection and removes the socket file.
    public func stop() async {
        try? await serverChannel.channel.close()
        serving.cancel()
        await serving.value
        unlink(socketPath)
    }

    /// The connecting process's uid, from the kernel (`SO_PEERCRED`); nil when it cannot be read.
    private static func peerUID(of channel: any Channel) -> EventLoopFuture<UInt32?> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let credentials: EventLoopFuture<PeerCredentials> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET), name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)
        )
        return credentials.map { Optional($0.uid) }.recover { _ -> UInt32? in nil }
    }

    /// Linux's `struct ucred`, which the C module does not export without `_GNU_SOURCE`.
    private struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    private static func serve(_ connection: AcceptedConnection, methods: LocalAPIMethods, events: LocalAPIEvents, logger: Logger) async {
        try? await connection.channel.executeThenClose { inbound, outbound in
            guard connection.peerUID == getuid() else {
                logger.warning("local API: refused a connection from another user", metadata: ["uid": "\(connection.peerUID.map(String.init) ?? "unknown")"])
                let refusal = LocalAPIError(kind: "forbidden", message: "this socket serves only its owner's user", exitCode: 1)
                try await outbound.write(line(["jsonrpc": "2.0", "id": NSNull(), "error": refusal.jsonObject]))
                return
            }
            var subscription: (id: Int, task: Task<Void, Never>)?
            defer {
                if let subscription {
                    subscription.task.cancel()
                    Task { await events.unsubscribe(subscription.id) }
                }
            }
            for try await request in inbound {
                let (answer, subscribe) = await answer(request, methods: methods)
                if subscribe, subscription == nil {
                    let (id, lines) = await events.subscribe()
                    subscription = (id, Task {
                        for await text in lines { try? await outbound.write(ByteBuffer(string: text + "\n")) }
                    })
                }
                if let answer { try await outbound.write(line(answer)) }
            }
        }
    }

    /// The response to one request line (nil for a notification), and whether it subscribed.
    private static func answer(_ request: ByteBuffer, methods: LocalAPIMethods) async -> ([String: Any]?, subscribe: Bool) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.readableBytesView)) as? [String: Any] else {
            return (["jsonrpc": "2.0", "id": NSNull(), "error": LocalAPIError.parse("not a JSON object").jsonObject], false)
        }
        let id = object["id"]
        guard object["jsonrpc"] as? String == "2.0", let method = object["method"] as? String,
              id == nil || id is String || id is Int || id is NSNull else {
            return (["jsonrpc": "2.0", "id": NSNull(), "error": LocalAPIError.invalidRequest("not a JSON-RPC 2.0 request").jsonObject], false)
        }
        let params = object["params"] as? [String: Any] ?? [:]
        var subscribe = false
        let outcome: Result<Any, LocalAPIError>
        switch method {
        case "subscribe":
            subscribe = true
            outcome = .success(["subscribed": true])
        default:
            do {
                outcome = .success(try await methods.call(method, params))
            } catch {
                outcome = .failure(LocalAPIError(error))
            }
        }
        // A request without an id is a notification: carried out, not answered.
        guard let id else { return (nil, subscribe) }
        switch outcome {
        case .success(let result): return (["jsonrpc": "2.0", "id": id, "result": result], subscribe)
        case .failure(let error): return (["jsonrpc": "2.0", "id": id, "error": error.jsonObject], subscribe)
        }
    }

    private static func line(_ object: [String: Any]) -> ByteBuffer {
        ByteBuffer(string: JSONLine.encode(object) + "\n")
    }
}
