import CipherTesting
import Foundation

/// One service of several relay processes: a throwaway PostgreSQL cluster, two
/// `cipherchat server --postgres` instances presenting one certificate (clients pin it) and
/// keeping files' chunks in one shared blob directory, as docs/DEPLOY.md requires, and HAProxy
/// in front of both. Everything is stopped when released.
final class SeveralInstances {
    /// A user initialised on instance `index`, so that its client logs in there.
    func user(_ name: String, on index: Int) async throws -> UserHome {
        let user = try UserHome(name)
        try await user.initialize(on: instances[index].requireEndpoint()).requireSuccess()
        return user
    }

    let cluster: PostgresCluster
    let instances: [RelayProcess]
    let proxy: HAProxyProcess
    private let sharedBlobs: TemporaryDirectory

    /// HAProxy's address towards the relays, from which they take PROXY protocol v2 headers
    /// naming clients. Clients connect from 127.0.0.1.
    static let balancerAddress = "127.0.0.3"

    /// `relayArguments` are added to both instances' `cipherchat server` (limits, for instance).
    init(relayArguments: [String] = []) async throws {
        cluster = try PostgresCluster()
        do {
            sharedBlobs = try TemporaryDirectory(prefix: "shared-blobs")
            let url = try cluster.createDatabase()
            let shared = ["--postgres", url, "--blob-dir", sharedBlobs.url.path]
                + ["--proxy-protocol", "v2", "--proxy-from", Self.balancerAddress] + relayArguments
            let first = try await RelayProcess(arguments: shared)
            // The second instance takes the first's certificate and key: one service, one pin.
            let certificate = first.dataDirectory.appending(path: "relay-cert.pem").path
            let key = first.dataDirectory.appending(path: "relay-key.pem").path
            let second = try await RelayProcess(arguments: shared + ["--tls-cert", certificate, "--tls-key", key])
            instances = [first, second]
            proxy = try await HAProxyProcess(
                backends: [try first.requireEndpoint(), try second.requireEndpoint()], proxyHeaderSource: Self.balancerAddress
            )
        } catch {
            cluster.stop()
            throw error
        }
    }

    deinit {
        cluster.stop()
    }

    /// The directory both instances keep files' encrypted chunks in (`--blob-dir`).
    var blobDirectory: URL {
        sharedBlobs.url
    }

    /// The chunk files stored for all blobs, as `<blob id>/<index>.chunk` paths.
    /// The blobs in the shared blob directory.
    func blobFolders() -> [URL] {
        BlobFolders.folders(under: blobDirectory)
    }

    /// The chunks stored in the shared blob directory, over every blob.
    func storedChunkCount() -> Int {
        BlobFolders.storedChunkCount(under: blobDirectory)
    }

    /// Runs `body` (a command through HAProxy) and returns the indexes of the instances that
    /// logged a user in meanwhile: where HAProxy sent its connections.
    func instancesServing(_ body: () async throws -> Void) async throws -> [Int] {
        let before = instances.map(\.successfulLogins)
        try await body()
        return instances.indices.filter { instances[$0].successfulLogins > before[$0] }
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

extension RelayProcess {
    /// How many logins the relay's security log records, over all its starts.
    var successfulLogins: Int {
        let log = (try? String(contentsOf: dataDirectory.appending(path: "security.log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0.contains("\"login_succeeded\"") }.count
    }
}

extension ChildProcess {
    /// Waits until this `recv --follow` has logged in on `instance`: its security log records
    /// one more login than `loginsBefore`.
    func waitUntilLoggedIn(on instance: RelayProcess, loginsBefore: Int) async throws {
        let deadline = Patience.deadline(.seconds(30))
        while ContinuousClock.now < deadline {
            if instance.successfulLogins > loginsBefore {
                // The login is logged just before the connection joins the online users.
                try await Task.sleep(for: .milliseconds(200))
                return
            }
            guard exitStatus == nil else { throw HarnessError("recv --follow exited: \(readStandardError())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("recv --follow did not log in: \(readStandardError())")
    }

    /// The whole lines printed on standard output once they satisfy `enough`, polling until
    /// `timeout`.
    func waitForOutputLines(within timeout: Duration, until enough: ([String]) -> Bool) async throws -> [String] {
        let deadline = Patience.deadline(timeout)
        while ContinuousClock.now < deadline {
            let output = readStandardOutput()
            let lines = output[..<(output.lastIndex(of: "\n") ?? output.startIndex)].split(separator: "\n").map(String.init)
            if enough(lines) { return lines }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError("the process printed \(readStandardOutput()) within \(timeout); stderr: \(readStandardError())")
    }
}
