/// Why a session could not be started or accepted.
public struct HandshakeError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case invalidPeer(IdentityError)
        case prekeyMismatch
        case malformed
        case cannotDecrypt
    }

    private let code: Code

    /// The peer's identity or prekeys are malformed or their signatures do not verify.
    public static func invalidPeer(_ error: IdentityError) -> Self { Self(code: .invalidPeer(error)) }
    /// The prekeys supplied to accept a session are not the ones the message names.
    public static let prekeyMismatch = Self(code: .prekeyMismatch)
    /// The message is not a well-formed prekey message.
    public static let malformed = Self(code: .malformed)
    /// The wrapped secret, the KEM ciphertext or the first message does not open.
    public static let cannotDecrypt = Self(code: .cannotDecrypt)

    public var description: String {
        switch code {
        case .invalidPeer(let error): "the peer's keys are not valid: \(error)"
        case .prekeyMismatch: "the message names prekeys other than the ones supplied"
        case .malformed: "the prekey message is malformed"
        case .cannotDecrypt: "the prekey message cannot be decrypted"
        }
    }
}
