/// Lowercase hexadecimal, for fingerprints and test vectors. Never used on secrets outside tests.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes hex digits, ignoring spaces; nil for an odd count or a non-hex character.
    public static func decode(_ text: String) -> [UInt8]? {
        var nibbles = [UInt8]()
        for scalar in text.utf8 where scalar != UInt8(ascii: " ") {
            switch scalar {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibbles.append(scalar - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibbles.append(scalar - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibbles.append(scalar - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }
        guard nibbles.count % 2 == 0 else { return nil }
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }
}
