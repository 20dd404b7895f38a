import CipherCore
import Foundation

extension ChatRecord {
    /// The record as `recv --json` prints it and the local API sends it: one set of field names.
    public var jsonObject: [String: Any] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var object: [String: Any] = [
            "id": id,
            "from": from,
            "to": to,
            "sent_at": formatter.string(from: Date(timeIntervalSince1970: Double(sentAtMilliseconds) / 1000)),
            "received_at": formatter.string(from: Date(timeIntervalSince1970: Double(receivedAtMilliseconds) / 1000)),
            "kind": kind,
            "text": text,
            "verified": verified,
        ]
        if let room { object["room"] = room }
        if let membership {
            object["action"] = membership.action
            object["by"] = membership.by
            object["member"] = membership.member
            object["epoch"] = membership.epoch
        }
        if let file {
            object["file_id"] = file.id
            object["name"] = file.name
            object["size"] = file.size
        }
        return object
    }
}

/// One JSON object as a line of text, keys sorted, for the local API and `--json` output. JSON
/// escapes C0 controls already; DEL, C1 controls and bidirectional overrides are escaped too
/// (`\u009b`), so the line stays harmless on a terminal and decodes to the same text.
public enum JSONLine {
    public static func encode(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        var line = ""
        for scalar in String(decoding: data, as: UTF8.self).unicodeScalars {
            // Every unsafe scalar is in the Basic Multilingual Plane: one \uXXXX escape each.
            if TerminalText.isUnsafe(scalar) { line += String(format: "\\u%04x", scalar.value) } else { line.unicodeScalars.append(scalar) }
        }
        return line
    }
}
