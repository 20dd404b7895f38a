/// A relay account name: 1 to 32 characters of lowercase `a-z`, digits, `_`, `.` and `-`
/// (PROTOCOL.md 12.2). Nothing else, so that names cannot be confused by case or by Unicode.
public enum Username {
    public static let maxLength = 32

    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...maxLength).contains(bytes.count) else { return false }
        return bytes.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }
}
