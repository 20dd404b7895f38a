/// Every domain-separation label of the protocol, exactly as PROTOCOL.md section 2.3 lists them.
/// Each is used as `LP(label)` or as an HKDF info prefix; none is ever reused for two purposes.
enum Label {
    static let encryptionKeyCertificate = "cipherchat/v1/encryption-key"
    static let signedPrekey = "cipherchat/v1/signed-prekey"
    static let postQuantumPrekey = "cipherchat/v1/pq-prekey"
    static let handshakeTranscript = "cipherchat/v1/handshake-transcript"
    static let sessionKey = "cipherchat/v1/session"
    static let ratchetRoot = "cipherchat/v1/ratchet-root"
    static let messageKeys = "cipherchat/v1/message-keys"
    static let ratchetMessage = "cipherchat/v1/ratchet-message"
    static let groupMessageKeys = "cipherchat/v1/group-message-keys"
    static let groupMessage = "cipherchat/v1/group-message"
    static let fileStream = "cipherchat/v1/file-stream"
    static let sealKey = "cipherchat/v1/seal-key"
    static let sealCheck = "cipherchat/v1/seal-check"
    static let relayAuthentication = "cipherchat/v1/relay-auth"
    static let storageItem = "cipherchat/v1/storage-item"
    static let storageLookup = "cipherchat/v1/storage-lookup"
    static let roomStatement = "cipherchat/v1/room-statement"
    static let roomMessageID = "cipherchat/v1/room-message-id"
    static let roomStatementID = "cipherchat/v1/room-statement-id"
    static let envelopeDigest = "cipherchat/v1/envelope-digest"
}
