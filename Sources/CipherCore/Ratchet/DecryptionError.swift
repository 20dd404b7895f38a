/// Why a ratchet, group or file ciphertext was refused. Every cryptographic failure (a wrong key,
/// an altered byte, a replayed message whose key is gone) is the one `cannotDecrypt`, so the
/// error is no oracle; only what an observer sees anyway (the structure, the message number)
/// gets its own case.
public struct DecryptionError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case malformed
        case tooFarAhead
        case cannotDecrypt
    }

    private let code: Code

    /// The bytes are not a well-formed message of the expected kind.
    public static let malformed = Self(code: .malformed)
    /// The message is further ahead of the receiving chain than the skipped-key bound allows.
    public static let tooFarAhead = Self(code: .tooFarAhead)
    /// Authentication failed, or the key for this message no longer exists (a replay).
    public static let cannotDecrypt = Self(code: .cannotDecrypt)

    public var description: String {
        switch code {
        case .malformed: "the message is malformed"
        case .tooFarAhead: "the message is too far ahead of the conversation to decrypt"
        case .cannotDecrypt: "the message cannot be decrypted"
        }
    }
}
