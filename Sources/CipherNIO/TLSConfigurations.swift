import Crypto
import NIOCore
import NIOSSL
import Synchronization

/// TLS 1.3 only, both ways: older versions are refused in the handshake.
public enum RelayTLS {
    public static func serverContext(identity: TLSIdentity) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: identity.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(identity.privateKey)
        )
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        return try NIOSSLContext(configuration: configuration)
    }

    /// How a client decides to trust the relay.
    public enum ServerTrust: Sendable {
        /// Exactly this certificate (SHA-256 of its DER), whatever signed it.
        case pinned(certificateHash: [UInt8])
        /// Any certificate for the host that chains to these CA certificates (PEM file).
        case certificateAuthority(pemFile: String)
    }

    /// One context per trust setting and process: building one loads the trust store and
    /// costs about a megabyte, far too much per connection for a client holding many.
    public static func clientContext(trust: ServerTrust) throws -> NIOSSLContext {
        let key: String
        switch trust {
        case .pinned(let hash): key = "pin:" + hash.map { String($0, radix: 16) }.joined(separator: ".")
        case .certificateAuthority(let file): key = "ca:" + file
        }
        if let cached = clientContexts.withLock({ $0[key] }) { return cached }
        let context = try makeClientContext(trust: trust)
        clientContexts.withLock { $0[key] = context }
        return context
    }

    private static let clientContexts = Mutex<[String: NIOSSLContext]>([:])

    private static func makeClientContext(trust: ServerTrust) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        configuration.maximumTLSVersion = .tlsv13
        switch trust {
        case .pinned:
            // The pin check replaces chain validation (see `clientHandler`); NIOSSL calls a
            // custom callback only when verification is not `.none`.
            configuration.certificateVerification = .noHostnameVerification
        case .certificateAuthority(let pemFile):
            configuration.certificateVerification = .fullVerification
            configuration.trustRoots = .file(pemFile)
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The client's TLS handler: with a pin, the connection fails unless the relay presents
    /// exactly the pinned certificate.
    public static func clientHandler(
        context: NIOSSLContext, trust: ServerTrust, hostname: String?, onPinMismatch: (@Sendable () -> Void)? = nil
    ) throws -> NIOSSLClientHandler {
        let serverName = hostname.flatMap { isIPAddress($0) ? nil : $0 }
        switch trust {
        case .pinned(let expected):
            return try NIOSSLClientHandler(context: context, serverHostname: serverName) { certificates, promise in
                guard let leaf = certificates.first, let der = try? leaf.toDERBytes(),
                      Array(SHA256.hash(data: der)) == expected else {
                    onPinMismatch?()
                    promise.succeed(.failed)
                    return
                }
                promise.succeed(.certificateVerified)
            }
        case .certificateAuthority:
            return try NIOSSLClientHandler(context: context, serverHostname: serverName)
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        host.contains(":") || host.split(separator: ".").allSatisfy { UInt8($0) != nil }
    }
}

extension NIOSSLCertificate {
    /// SHA-256 of the certificate's DER encoding.
    public var sha256: [UInt8] {
        (try? Array(SHA256.hash(data: toDERBytes()))) ?? []
    }
}
