import CipherCore

/// What `ChatClient.create` is doing, for a user who waits on it: an RSA-4096 key can take
/// tens of seconds, and the passphrase's derivation about a second.
public enum InitStep: Sendable, Equatable {
    case connecting(ServerEndpoint)
    case generatingIdentity(bits: Int)
    case sealingStore
    case registering(username: String)
    case publishingPrekeys

    /// One line, as `cipherchat init` prints it.
    public var description: String {
        switch self {
        case .connecting(let endpoint): "connecting to \(endpoint.description) and checking its certificate"
        case .generatingIdentity(let bits):
            "generating a \(bits)-bit RSA identity" + (bits > 2048 ? " (this can take a minute)" : "")
        case .sealingStore: "sealing the new store under your passphrase (scrypt)"
        case .registering(let username): "registering \(username)"
        case .publishingPrekeys: "publishing prekeys"
        }
    }
}
