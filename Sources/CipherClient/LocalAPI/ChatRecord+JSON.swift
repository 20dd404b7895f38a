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
        return object
    }
}

/// One JSON object as a line of text, keys sorted, for the local API and `--json` output.
public enum JSONLine {
    public static func encode(_ object: Any) -> String {
        guard JSONSerialization.isValidJSONObject(object),
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
