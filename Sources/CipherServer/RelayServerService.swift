import ServiceLifecycle

/// The relay as a service of a `ServiceGroup`: a graceful shutdown (SIGTERM or SIGINT, when the
/// group is set up for them) starts `RelayServer.shutdown()`, and `run()` returns once the
/// connections have ended.
public struct RelayServerService: Service {
    private let server: RelayServer

    public init(server: RelayServer) {
        self.server = server
    }

    public func run() async throws {
        let server = self.server
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            Task { await server.shutdown() }
        }
    }
}
