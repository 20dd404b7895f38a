import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The monitoring listener: plain HTTP/1.1 on its own address, apart from the relay's TLS
/// port, answering `GET /metrics`, `/healthz` and `/readyz` (`MonitoringEndpoints`). One request
/// per connection (`Connection: close`), and a connection that sends no complete request within
/// `requestTimeout` is closed, so idle sockets cannot pile up.
public final class MonitoringServer: Service, Sendable {
    private let endpoints: MonitoringEndpoints
    private let logger: Logger
    private let serverChannel: NIOAsyncChannel<NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, Never>
    /// Where it listens; with port 0 this holds the port the system chose.
    public let localAddress: SocketAddress
    private let host: String

    static let requestTimeout = Duration.seconds(10)

    /// Binds the listening socket; `run()` then serves until a graceful shutdown.
    public init(
        host: String, port: Int, endpoints: MonitoringEndpoints, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws {
        self.endpoints = endpoints
        self.logger = logger
        self.host = host
        serverChannel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false)
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        localAddress = serverChannel.channel.localAddress!
    }

    /// The second machine-readable line the server prints: `metrics on HOST:PORT`.
    public var readyLine: String {
        "metrics on \(host):\(localAddress.port ?? 0)"
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await serverChannel.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
                // Stopping: a probe half-way through a request need not hold up the exit.
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.serverChannel.channel.close(promise: nil)
        }
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async {
        let timer = Task {
            try await Task.sleep(for: Self.requestTimeout)
            connection.channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var request: HTTPRequestHead?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        request = head
                    case .body:
                        // Nothing here takes a body; it is read and dropped.
                        break
                    case .end:
                        guard let head = request else { return }
                        let response = await endpoints.respond(method: head.method, uri: head.uri)
                        try await write(response, to: outbound, headOnly: head.method == .HEAD)
                        return
                    }
                }
            }
        } catch {
            logger.debug("monitoring connection ended", metadata: ["reason": "\(error)"])
        }
    }

    private func write(
        _ response: MonitoringResponse, to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, headOnly: Bool
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)))
        if !headOnly {
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        }
        try await outbound.write(.end(nil))
    }
}
