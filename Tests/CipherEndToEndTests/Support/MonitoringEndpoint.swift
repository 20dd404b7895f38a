import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The relay's monitoring listener, from its second ready line `metrics on HOST:PORT`.
struct MonitoringEndpoint: Sendable {
    let host: String
    let port: Int

    /// Finds the `metrics on HOST:PORT` line in what the relay printed.
    init(relayOutput: String) throws {
        guard let line = relayOutput.split(separator: "\n").first(where: { $0.hasPrefix("metrics on ") }) else {
            throw HarnessError("the relay printed no 'metrics on' line:\n\(relayOutput)")
        }
        let address = line.dropFirst("metrics on ".count)
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw HarnessError("unexpected metrics line: \(line)")
        }
        host = String(address[..<colon])
        self.port = port
    }

    struct Response: Sendable {
        let status: Int
        let contentType: String
        let body: String
    }

    /// `GET path` over plain HTTP, as Prometheus or a load balancer would ask.
    func get(_ path: String) async throws -> Response {
        var request = URLRequest(url: URL(string: "http://\(host):\(port)\(path)")!)
        request.timeoutInterval = 10
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw HarnessError("no HTTP response from \(path)") }
        return Response(
            status: http.statusCode, contentType: http.value(forHTTPHeaderField: "Content-Type") ?? "",
            body: String(decoding: data, as: UTF8.self)
        )
    }
}

extension RelayProcess {
    /// The running relay's monitoring listener.
    func requireMonitoring() throws -> MonitoringEndpoint {
        try MonitoringEndpoint(relayOutput: standardOutput)
    }
}
