import Crypto

/// SHA-256 of an identity's signing key (SPKI DER): how a person is named to another
/// (PROTOCOL.md 4.2).
public struct Fingerprint: Sendable, Hashable {
    public let bytes: [UInt8]

    init(signingKeyDER: [UInt8]) {
        bytes = Array(SHA256.hash(data: signingKeyDER))
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// 64 lowercase hex digits in sixteen groups of four, separated by spaces.
    public var displayString: String {
        let hex = Array(Hex.encode(bytes))
        return stride(from: 0, to: hex.count, by: 4).map { String(hex[$0..<$0 + 4]) }.joined(separator: " ")
    }

    /// The first 16 hex digits, shown in lists.
    public var shortID: String { String(Hex.encode(bytes).prefix(16)) }

    public static func == (lhs: Self, rhs: Self) -> Bool { constantTimeEquals(lhs.bytes, rhs.bytes) }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
