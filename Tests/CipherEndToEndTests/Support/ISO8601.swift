import Foundation

/// Reads the timestamps `recv --json` prints: ISO 8601 with a zone, fractional seconds optional.
enum ISO8601 {
    static func date(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return withFraction.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}
