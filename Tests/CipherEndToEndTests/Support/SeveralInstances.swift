import CipherTesting
import Foundation

/// One service of several relay processes: a throwaway PostgreSQL cluster, two
/// `cipherchat server --postgres` instances presenting one certificate (clients pin it), and
/// HAProxy in front of both. Everything is stopped when released.
final class SeveralInstances {
    let cluster: PostgresCluster
    let instances: [RelayProcess]
    let proxy: HAProxyProcess

    init() async throws {
        cluster = try PostgresCluster()
        do {
            let url = try cluster.createDatabase()
            let first = try await RelayProcess(arguments: ["--postgres", url])
            // The second instance takes the first's certificate and key: one service, one pin.
            let certificate = first.dataDirectory.appending(path: "relay-cert.pem").path
            let key = first.dataDirectory.appending(path: "relay-key.pem").path
            let second = try await RelayProcess(arguments: ["--postgres", url, "--tls-cert", certificate, "--tls-key", key])
            instances = [first, second]
            proxy = try await HAProxyProcess(backends: [try first.requireEndpoint(), try second.requireEndpoint()])
        } catch {
            cluster.stop()
            throw error
        }
    }

    deinit {
        cluster.stop()
    }

    /// HAProxy's address, with the certificate both instances present.
    func proxyEndpoint() throws -> RelayEndpoint {
        proxy.endpoint(fingerprint: try instances[0].requireEndpoint().fingerprint)
    }
}

extension UserHome {
    /// Starts `cipherchat recv --follow --json`: one connection that prints each message as
    /// the relay pushes it. The caller ends it.
    func follow(outputIn directory: TemporaryDirectory) throws -> ChildProcess {
        let name = "\(username)-follow-\(UUID().uuidString)"
        return try ChildProcess(
            executable: CipherBinary.url(), arguments: ["recv", "--home", home.path, "--follow", "--json"],
            environment: CipherBinary.environment([
                "CIPHERCHAT_PASSPHRASE": passphrase, "CIPHERCHAT_SCRYPT_LOG_N": Self.scryptLogN,
            ]),
            standardOutput: directory.url.appending(path: "\(name).out"),
            standardError: directory.url.appending(path: "\(name).err")
        )
    }
}
