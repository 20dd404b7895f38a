import Crypto

/// The number two users compare to verify each other: Signal's numeric fingerprint over the
/// signing key's SPKI DER and the username (PROTOCOL.md 4.4).
public struct SafetyNumber: Sendable, Hashable, CustomStringConvertible {
    /// The 60 digits, without spaces.
    public let digits: String

    static let version: UInt16 = 0
    static let iterations = 5200

    public init(local: PublicIdentity, localUsername: String, remote: PublicIdentity, remoteUsername: String) {
        let localHalf = Self.half(signingKeyDER: local.signingKeyDER, username: localUsername)
        let remoteHalf = Self.half(signingKeyDER: remote.signingKeyDER, username: remoteUsername)
        // Both users must see the same 60 digits: the lexically smaller half comes first.
        digits = localHalf < remoteHalf ? localHalf + remoteHalf : remoteHalf + localHalf
    }

    /// Twelve groups of five digits separated by single spaces.
    public var description: String {
        let characters = Array(digits)
        return stride(from: 0, to: characters.count, by: 5).map { String(characters[$0..<$0 + 5]) }
            .joined(separator: " ")
    }

    /// Whether `text` (with or without spaces) is this safety number, compared in constant time.
    public func matches(_ text: String) -> Bool {
        let typed = text.utf8.filter { $0 != UInt8(ascii: " ") }
        return constantTimeEquals(typed, Array(digits.utf8))
    }

    /// 30 digits: SHA-512 iterated 5200 times, the first 30 bytes cut into six 5-byte big-endian
    /// integers, each taken modulo 100000 and written as five digits.
    static func half(signingKeyDER: [UInt8], username: String) -> String {
        var hash: [UInt8] = [UInt8(version >> 8), UInt8(version & 0xff)] + signingKeyDER + Array(username.utf8)
        for _ in 0..<iterations {
            var hasher = SHA512()
            hasher.update(data: hash)
            hasher.update(data: signingKeyDER)
            hash = Array(hasher.finalize())
        }
        var out = ""
        for chunk in 0..<6 {
            var value: UInt64 = 0
            for byte in hash[(chunk * 5)..<(chunk * 5 + 5)] { value = value << 8 | UInt64(byte) }
            let group = String(value % 100_000)
            out += String(repeating: "0", count: 5 - group.count) + group
        }
        return out
    }
}
