import SwiftProtobuf

/// Why a wire message could not be decoded. Every decode of untrusted bytes ends in either a
/// message or one of these; none of them carries the bytes themselves.
public struct WireDecodingError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Reason: Hashable, Sendable {
        case tooLarge(limit: Int)
        case malformed
    }

    private let reason: Reason
    /// The message type that failed, for diagnostics (a type name, never content).
    public let messageName: String

    public static func tooLarge(_ messageName: String, limit: Int) -> Self {
        Self(reason: .tooLarge(limit: limit), messageName: messageName)
    }

    public static func malformed(_ messageName: String) -> Self {
        Self(reason: .malformed, messageName: messageName)
    }

    public var description: String {
        switch reason {
        case .tooLarge(let limit): "\(messageName) is larger than its limit of \(limit) bytes"
        case .malformed: "\(messageName) is not a well-formed Protocol Buffers message"
        }
    }
}

extension SwiftProtobuf.Message {
    /// Decodes `bytes` after checking them against `maxSize`, so a hostile peer can make the
    /// decoder allocate at most the input it already sent. Unknown fields are dropped and
    /// nesting is capped: nothing in the schema nests deeper than four levels.
    public init(boundedBytes bytes: some Collection<UInt8>, maxSize: Int) throws(WireDecodingError) {
        guard bytes.count <= maxSize else {
            throw .tooLarge(Self.protoMessageName, limit: maxSize)
        }
        var options = BinaryDecodingOptions()
        options.messageDepthLimit = 8
        options.discardUnknownFields = true
        do {
            self = try Self(serializedBytes: Array(bytes), options: options)
        } catch {
            throw .malformed(Self.protoMessageName)
        }
    }

    /// The message's binary encoding. Serializing a message built in memory cannot fail for the
    /// proto3 schema here (no required fields, no maps with invalid keys).
    public var encodedBytes: [UInt8] {
        // swiftlint:disable:next force_try
        try! serializedBytes()
    }
}
