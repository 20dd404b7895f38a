/// Why an identity, a prekey or a bundle was refused.
public struct IdentityError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case malformed(String)
        case unsupportedKeySize
        case badSignature(String)
    }

    private let code: Code

    /// The bytes do not hold what `what` should be (wrong length, not DER, not canonical).
    public static func malformed(_ what: String) -> Self { Self(code: .malformed(what)) }
    /// An RSA key of a size other than 2048, 3072 or 4096 bits.
    public static let unsupportedKeySize = Self(code: .unsupportedKeySize)
    /// A signature by the identity over `what` does not verify.
    public static func badSignature(_ what: String) -> Self { Self(code: .badSignature(what)) }

    public var description: String {
        switch code {
        case .malformed(let what): "malformed \(what)"
        case .unsupportedKeySize: "RSA keys must be 2048, 3072 or 4096 bits"
        case .badSignature(let what): "the signature on the \(what) does not verify"
        }
    }
}
