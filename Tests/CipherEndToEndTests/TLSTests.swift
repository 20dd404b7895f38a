import Foundation
import Testing

@Suite("The relay's TLS", .timeLimit(.minutes(15)))
struct TLSTests {
    @Test("TLS 1.2 is refused, TLS 1.3 is accepted (openssl s_client)", .enabled(if: OpenSSL.executable != nil, "openssl is not installed"))
    func onlyTLS13() async throws {
        let relay = try await RelayProcess()
        let address = try relay.requireEndpoint().address

        let tls12 = try await OpenSSL.connect(to: address, option: "-tls1_2")
        let tls12Output = tls12.standardOutput + tls12.standardError
        #expect(tls12.status != 0, "\(tls12)")
        #expect(tls12Output.contains("Cipher is (NONE)"), "\(tls12)")
        #expect(!tls12Output.contains("BEGIN CERTIFICATE"), "\(tls12)")

        let tls13 = try await OpenSSL.connect(to: address, option: "-tls1_3")
        #expect(tls13.status == 0, "\(tls13)")
        #expect(tls13.standardOutput.contains("New, TLSv1.3, Cipher is"), "\(tls13)")
        #expect(tls13.standardOutput.contains("BEGIN CERTIFICATE"), "\(tls13)")
    }

    @Test("a relay with a new certificate is refused: exit 7")
    func changedCertificateRefused() async throws {
        let relay = try await RelayProcess()
        let original = try relay.requireEndpoint()
        let alice = try UserHome("alice")
        let bob = try UserHome("bob")
        try await alice.initialize(on: original).requireSuccess()
        try await bob.initialize(on: original).requireSuccess()
        try await alice.send("before the new certificate", to: "bob")

        // Same address, same data, new self-signed certificate: what an impostor on the
        // relay's address would present.
        try await relay.kill()
        for name in ["relay-cert.pem", "relay-key.pem"] {
            try FileManager.default.removeItem(at: relay.dataDirectory.appending(path: name))
        }
        try await relay.restart()
        let impostor = try relay.requireEndpoint()
        #expect(impostor.port == original.port)
        try #require(impostor.fingerprint != original.fingerprint, "the restarted relay kept its certificate")

        let send = try await alice.run("send", ["bob", "after the new certificate"])
        #expect(send.status == 7, "\(send)")
        #expect(send.standardError.contains("certificate"), "\(send)")
        let recv = try await bob.run("recv", ["--json"])
        #expect(recv.status == 7, "\(recv)")
        #expect(recv.standardOutput.isEmpty, "\(recv)")
    }
}

/// The `openssl` command line tool, when installed.
enum OpenSSL {
    static let executable: URL? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":")
            .map { URL(filePath: String($0)).appending(path: "openssl") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// `openssl s_client -connect ADDRESS OPTION` with nothing to send: handshakes, then closes.
    /// Its standard input stays open for two seconds: on end of input s_client may quit before
    /// it has printed the finished handshake, which made the check flaky on a loaded machine.
    static func connect(to address: String, option: String) async throws -> CommandResult {
        guard let executable else { throw HarnessError("openssl is not installed") }
        let output = try TemporaryDirectory(prefix: "openssl")
        return try await ChildProcess.run(
            URL(filePath: "/bin/sh"),
            ["-c", "sleep 2 | exec \"$0\" s_client -connect \"$1\" \"$2\"", executable.path, address, option],
            environment: CipherBinary.environment(), outputDirectory: output.url, timeout: .seconds(30)
        )
    }
}
