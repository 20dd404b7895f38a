/// The byte strings shared by both kinds of signed prekey (PROTOCOL.md 5.1): what the identity
/// signs, and how the prekey enters a transcript. They differ only in the label.
enum SignedPrekeyEncoding {
    /// `LP(label) || u32(id) || u64(created_at) || LP(public key)`.
    static func statement(label: String, id: UInt32, createdAt: UInt64, publicKey: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes(label: label)
        out.uint32(id)
        out.uint64(createdAt)
        out.field(publicKey)
        return out.bytes
    }

    /// `u32(id) || u64(created_at) || LP(public key) || LP(signature)`.
    static func canonicalBytes(id: UInt32, createdAt: UInt64, publicKey: [UInt8], signature: [UInt8]) -> [UInt8] {
        var out = CanonicalBytes()
        out.uint32(id)
        out.uint64(createdAt)
        out.field(publicKey)
        out.field(signature)
        return out.bytes
    }
}
