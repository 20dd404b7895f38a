/// Why a client operation failed, in words for the person at the terminal.
public enum ClientError: Error, Hashable, CustomStringConvertible, Sendable {
    case alreadyInitialized(String)
    case notInitialized(String)
    case storeCorrupted
    case unknownContact(String)
    /// The contact's identity differs from the one pinned; `cipherchat trust` accepts it.
    case identityChanged(username: String, pinned: String, presented: String)
    /// The trust policy sends only to verified contacts.
    case contactNotVerified(String)
    case invalidUsername(String)
    case invalidServerAddress(String)
    case messageTooLong(Int)
    case relay(RelayError)
    case serverCertificateChanged
    /// Another process owns the home (HomeOwnership) and did not let go in time.
    case homeOwned(String, holder: String)
    case homeUnusable(String, reason: String)
    /// Messages the relay has not confirmed; they stay in the outbox.
    case notConfirmed(count: Int)

    public var description: String {
        switch self {
        case .alreadyInitialized(let home): "\(home) already holds a CipherChat identity"
        case .notInitialized(let home): "no CipherChat identity in \(home): run 'cipherchat init' first"
        case .storeCorrupted: "the local store is corrupted"
        case .unknownContact(let name): "no contact named \(name)"
        case .identityChanged(let name, let pinned, let presented):
            """
            WARNING: \(name)'s identity has CHANGED.
              pinned:    \(pinned)
              presented: \(presented)
            This may be a new device or an attack. Nothing was sent or shown. Compare safety \
            numbers with \(name) in person, then run 'cipherchat trust \(name)' to accept it.
            """
        case .contactNotVerified(let name):
            "\(name) is not verified and the trust policy sends only to verified contacts: run 'cipherchat verify \(name) NUMBER'"
        case .invalidUsername(let name): "'\(name)' is not a valid username (1 to 32 of a-z, 0-9, _ . -)"
        case .invalidServerAddress(let address): "'\(address)' is not HOST:PORT"
        case .messageTooLong(let limit): "a message is limited to \(limit) bytes"
        case .relay(let error): "the relay refused: \(error)"
        case .homeOwned(let home, let holder):
            "\(home) is in use by \(holder), which does not answer on its local socket: wait for it to finish, or stop it"
        case .homeUnusable(let home, let reason): "cannot use the home \(home): \(reason)"
        case .notConfirmed(let count):
            count == 1
                ? "the relay has not confirmed the message: it stays in the outbox and is sent when the relay can store it"
                : "the relay has not confirmed \(count) messages: they stay in the outbox and are sent when the relay can store them"
        case .serverCertificateChanged:
            "the relay's certificate does not match the pinned fingerprint: refusing to connect (see 'cipherchat init --server-fingerprint')"
        }
    }
}
