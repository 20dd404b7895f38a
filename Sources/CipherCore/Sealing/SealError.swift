/// Why a sealed container could not be opened. A wrong passphrase and a damaged file are told
/// apart: the first is the user's to fix, the second means the file must be restored.
public struct SealError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case wrongPassphrase
        case corrupted
        case unsupportedParameters
    }

    private let code: Code

    /// The passphrase does not open this container.
    public static let wrongPassphrase = Self(code: .wrongPassphrase)
    /// The container is damaged: truncated, altered, or not a sealed container at all.
    public static let corrupted = Self(code: .corrupted)
    /// The key-derivation parameters are outside what this version accepts.
    public static let unsupportedParameters = Self(code: .unsupportedParameters)

    public var description: String {
        switch code {
        case .wrongPassphrase: "wrong passphrase"
        case .corrupted: "the sealed file is corrupted"
        case .unsupportedParameters: "the sealed file uses key-derivation parameters this version does not accept"
        }
    }
}
