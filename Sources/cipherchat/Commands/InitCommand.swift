import ArgumentParser
import CipherClient
import CipherCore
import CipherNIO
import Foundation

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create an identity, register a username with a relay, and publish prekeys.",
        discussion: """
            Generates the RSA identity and prekeys, seals them under the passphrase in the home \
            directory, and registers USER with the relay, saying each step on standard error \
            (an RSA-4096 identity can take a minute). The relay's TLS certificate is pinned: \
            give its SHA-256 with --server-fingerprint (the relay prints it as tls-sha256=...), or \
            a CA certificate with --ca for a relay whose certificate a CA signed.
            """
    )

    @Option(help: "The relay, as HOST:PORT.")
    var server: String

    @Option(help: "The username to register: 1 to 32 of a-z, 0-9, _ . -")
    var user: String

    @OptionGroup var options: ClientOptions

    @Option(help: "RSA key size: 2048, 3072 or 4096.")
    var rsaBits: Int = 2048

    @Option(help: "SHA-256 of the relay's certificate, 64 hex digits (the relay's ready line shows it).")
    var serverFingerprint: String?

    @Option(help: "Trust a relay certificate signed by this CA certificate (PEM) instead of a pin.")
    var ca: String?

    @Option(help: "Who messages go to: 'tofu' pins a contact's identity on first use; 'verified' sends only to contacts verified by safety number.")
    var trustPolicy: String = TrustPolicy.trustOnFirstUse.rawValue

    func validate() throws {
        guard PrivateIdentity.KeySize(rawValue: rsaBits) != nil else {
            throw ValidationError("--rsa-bits must be 2048, 3072 or 4096")
        }
        guard (serverFingerprint == nil) != (ca == nil) else {
            throw ValidationError("give exactly one of --server-fingerprint and --ca")
        }
        guard TrustPolicy(rawValue: trustPolicy) != nil else {
            throw ValidationError("--trust-policy must be tofu or verified")
        }
        if let serverFingerprint {
            guard let bytes = Hex.decode(serverFingerprint.replacingOccurrences(of: ":", with: "")), bytes.count == 32 else {
                throw ValidationError("--server-fingerprint must be 64 hex digits")
            }
        }
    }

    func run() async throws {
        try await runReportingFailures {
            let endpoint = try ServerEndpoint(server)
            let trust: RelayTLS.ServerTrust
            if let ca {
                trust = .certificateAuthority(pemFile: ca)
            } else {
                trust = .pinned(certificateHash: Hex.decode(serverFingerprint!.replacingOccurrences(of: ":", with: ""))!)
            }
            let passphrase = try options.passphrase(confirm: true)
            let client = try await ChatClient.create(
                home: options.resolvedHome, passphrase: passphrase, endpoint: endpoint, username: user, trust: trust,
                keySize: PrivateIdentity.KeySize(rawValue: rsaBits)!, kdf: Self.kdf(), logger: options.logger(),
                progress: { step in printError("\(step.description)…") }
            )
            try await client.setTrustPolicy(TrustPolicy(rawValue: trustPolicy)!)
            printSafely("registered \(user) at \(endpoint.description)")
            printSafely("fingerprint: \(client.fingerprint.displayString)")
        }
    }

    /// scrypt N = 2^17 unless CIPHERCHAT_SCRYPT_LOG_N asks for another cost (14 to 20): slower
    /// machines and test suites lower it, at the price of a faster passphrase search.
    static func kdf() -> PassphraseKDF {
        guard let text = ProcessInfo.processInfo.environment["CIPHERCHAT_SCRYPT_LOG_N"],
              let logN = UInt8(text), (14...20).contains(logN) else { return .defaultScrypt }
        return .scrypt(logN: logN, r: 8, p: 1)
    }
}

struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whoami", abstract: "Show this identity's username, relay and fingerprint.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient(command: "cipherchat whoami")
            printSafely("user: \(client.username)")
            printSafely("server: \(client.endpoint.description)")
            printSafely("fingerprint: \(client.fingerprint.displayString)")
        }
    }
}
