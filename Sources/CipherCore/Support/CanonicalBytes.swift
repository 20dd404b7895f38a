/// Builds the exact byte strings that are signed, hashed or used as associated data
/// (PROTOCOL.md 2.2). Protocol Buffers encodings are not canonical, so nothing the protocol
/// authenticates is ever a protobuf encoding: it is one of these.
///
/// `field` writes a 4-byte big-endian length and then the bytes (`LP(x)` in the spec).
struct CanonicalBytes {
    private(set) var bytes: [UInt8] = []

    init() {}

    init(label: String) {
        field(Array(label.utf8))
    }

    mutating func field(_ value: some Collection<UInt8>) {
        uint32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func raw(_ value: some Collection<UInt8>) {
        bytes.append(contentsOf: value)
    }

    mutating func uint32(_ value: UInt32) {
        bytes.append(contentsOf: [
            UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
            UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value),
        ])
    }

    mutating func uint64(_ value: UInt64) {
        uint32(UInt32(truncatingIfNeeded: value >> 32))
        uint32(UInt32(truncatingIfNeeded: value))
    }
}
