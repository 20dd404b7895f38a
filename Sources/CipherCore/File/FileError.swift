/// Why a file could not be encrypted or decrypted.
public struct FileError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case malformedManifest
        case chunkRejected(index: UInt64)
        case truncated
        case trailingData
        case hashMismatch
        case tooLarge
    }

    private let code: Code

    public static let malformedManifest = Self(code: .malformedManifest)
    /// Chunk `index` failed authentication: altered, reordered, or from another file.
    public static func chunkRejected(index: UInt64) -> Self { Self(code: .chunkRejected(index: index)) }
    /// The stream ended before its final chunk.
    public static let truncated = Self(code: .truncated)
    /// More chunks arrived than the manifest's size allows.
    public static let trailingData = Self(code: .trailingData)
    /// Every chunk authenticated but the plaintext's SHA-256 is not the manifest's.
    public static let hashMismatch = Self(code: .hashMismatch)
    /// More plaintext than the manifest's size, or than the format can count.
    public static let tooLarge = Self(code: .tooLarge)

    public var description: String {
        switch code {
        case .malformedManifest: "the file manifest is malformed"
        case .chunkRejected(let index): "chunk \(index) of the file does not authenticate"
        case .truncated: "the file is truncated"
        case .trailingData: "the file has data past its end"
        case .hashMismatch: "the file's SHA-256 does not match its manifest"
        case .tooLarge: "the file is larger than its manifest says"
        }
    }
}
