import Foundation
import NIOSSL
import PostgresNIO

/// Where the relay's PostgreSQL database is, from a URL such as
/// `postgres://relay:secret@db.example:5432/cipherchat?sslmode=require`.
///
/// `sslmode` is `disable`, `prefer` (the default, as in libpq: TLS when the server offers it)
/// or `require` (TLS with the server's certificate verified against the system's roots).
/// The password never appears in `description`.
public struct PostgresLocation: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        case disable, prefer, require
    }

    public let host: String
    public let port: Int
    public let username: String
    let password: String?
    public let database: String?
    public let tlsMode: TLSMode

    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
              ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw PostgresRelayStoreError.invalidURL("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        }
        guard let username = components.user, !username.isEmpty else {
            throw PostgresRelayStoreError.invalidURL("the URL names no user")
        }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        self.username = username.removingPercentEncoding ?? username
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? nil : path
        let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? TLSMode.prefer.rawValue
        guard let tlsMode = TLSMode(rawValue: mode) else {
            throw PostgresRelayStoreError.invalidURL("sslmode must be disable, prefer or require")
        }
        self.tlsMode = tlsMode
    }

    public var description: String {
        let credentials = password == nil ? username : "\(username):***"
        return "postgres://\(credentials)@\(host):\(port)/\(database ?? "")?sslmode=\(tlsMode.rawValue)"
    }

    var connectionConfiguration: PostgresConnection.Configuration {
        get throws {
            let tls: PostgresConnection.Configuration.TLS = switch tlsMode {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            return PostgresConnection.Configuration(
                host: host, port: port, username: username, password: password, database: database, tls: tls
            )
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch tlsMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
    }
}
