/// Proof of possession of an identity to the relay (PROTOCOL.md 12.3): the relay sends a fresh
/// 32-byte nonce; the client signs, with its RSA-PSS identity key,
///
///     LP("cipherchat/v1/relay-auth") || LP(purpose) || LP(nonce) || LP(username)
///     || LP(SHA-256 of the relay's TLS certificate as the client saw it)
///
/// Binding the certificate the client saw means a signature made for one relay (or through a
/// man in the middle with another certificate) is worthless anywhere else.
public enum RelayAuthentication {
    public enum Purpose: String, Sendable {
        case register
        case login
    }

    public static let nonceSize = 32

    static func statement(purpose: Purpose, nonce: [UInt8], username: String, serverCertificateHash: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes(label: Label.relayAuthentication)
        out.field(Array(purpose.rawValue.utf8))
        out.field(nonce)
        out.field(Array(username.utf8))
        out.field(serverCertificateHash)
        return out.bytes
    }

    public static func sign(
        purpose: Purpose, nonce: [UInt8], username: String, serverCertificateHash: [UInt8], identity: PrivateIdentity
    ) throws -> [UInt8] {
        try identity.sign(statement(purpose: purpose, nonce: nonce, username: username, serverCertificateHash: serverCertificateHash))
    }

    public static func verify(
        _ signature: [UInt8], purpose: Purpose, nonce: [UInt8], username: String,
        serverCertificateHash: [UInt8], identity: PublicIdentity
    ) -> Bool {
        identity.isValidSignature(
            signature, over: statement(purpose: purpose, nonce: nonce, username: username, serverCertificateHash: serverCertificateHash)
        )
    }
}
