/// The name a received file is saved under when the user gives none (PROTOCOL.md 9.4). The
/// sender chose the manifest's name, so it is filtered one Unicode scalar at a time: a filter by
/// `Character` sees `"/\u{301}"` as one grapheme that is not `"/"` and keeps the separator.
///
/// What is left names one file in the current directory: no path separator, no control or
/// format character (escape sequences, bidirectional overrides, zero-width characters), no
/// leading dot (hidden files, `.` and `..`), no surrounding space, and short enough that the
/// partial file's name beside it still fits a file system's 255-byte limit.
public enum ReceivedFileName {
    /// The name used when nothing of the sender's is left.
    public static let fallback = "received-file"
    /// Room left in a 255-byte name for the suffix of the partial file.
    public static let maxSize = 200

    public static func safe(_ name: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in name.unicodeScalars where !isDropped(scalar) {
            scalars.append(isSeparator(scalar) ? "_" : scalar)
        }
        var safe = Substring(String(scalars))
        while let first = safe.unicodeScalars.first, first == "." || first.properties.isWhitespace {
            safe = Substring(safe.unicodeScalars.dropFirst())
        }
        while let last = safe.unicodeScalars.last, last.properties.isWhitespace {
            safe = Substring(safe.unicodeScalars.dropLast())
        }
        let capped = cap(String(safe))
        return capped.isEmpty ? fallback : capped
    }

    /// Controls (C0, DEL, C1), format characters (bidirectional overrides and marks, zero-width
    /// characters) and the line and paragraph separators.
    private static func isDropped(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    /// `/` separates directories on every system; `\` on Windows, where a copied file may go.
    private static func isSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "/" || scalar == "\\"
    }

    /// At most `maxSize` bytes of UTF-8, cut between scalars.
    private static func cap(_ name: String) -> String {
        guard name.utf8.count > maxSize else { return name }
        var kept = String.UnicodeScalarView()
        var size = 0
        for scalar in name.unicodeScalars {
            size += String(scalar).utf8.count
            guard size <= maxSize else { break }
            kept.append(scalar)
        }
        return String(kept)
    }
}
