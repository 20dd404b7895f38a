import CipherCore

/// Secret bytes inside a stored record (a file key, a prekey's private half, an offer that
/// carries a file key). The record's JSON keeps them as hex, as it always has, but nothing
/// shows them: `description`, `debugDescription` and reflection (which prints a struct's
/// stored properties, including internal ones) give a placeholder with the length only.
struct SecretBytes: Codable, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    private let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Runs `body` with the bytes; the only way to reach them.
    func withBytes<Result>(_ body: ([UInt8]) throws -> Result) rethrows -> Result {
        try body(bytes)
    }

    var description: String { "<secret, \(bytes.count) bytes>" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    static func == (lhs: Self, rhs: Self) -> Bool { constantTimeEquals(lhs.bytes, rhs.bytes) }
    func hash(into hasher: inout Hasher) { hasher.combine(bytes) }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let bytes = Hex.decode(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not hex")
        }
        self.bytes = bytes
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Hex.encode(bytes))
    }
}
