import CipherCore
import CipherRelay
import Crypto
import Foundation
import Synchronization

/// The security log: one JSON object a line in `security.log` in the data directory. Addresses
/// are pseudonymised with HMAC-SHA256 under a secret kept beside the log, so the log can link
/// events from one address without revealing it (a bare hash of an IPv4 address is reversed by
/// trying all 2^32). Events carry no content, key material or nonce.
public final class FileSecurityLog: SecurityLog {
    private let handle: Mutex<FileHandle>
    private let pseudonymKey: SymmetricKey

    public init(directory: String) throws {
        let path = (directory as NSString).appendingPathComponent("security.log")
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.seekToEnd()
        handle = Mutex(file)
        pseudonymKey = try Self.loadOrMakeSecret(path: (directory as NSString).appendingPathComponent("security-log.key"))
    }

    public func record(_ event: SecurityEvent) {
        var object: [String: String] = [
            "time": ISO8601DateFormatter().string(from: Date()),
            "event": event.kind.rawValue,
            "address": pseudonym(event.address),
        ]
        object["user"] = event.username
        object["detail"] = event.detail
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(UInt8(ascii: "\n"))
        handle.withLock { try? $0.write(contentsOf: line) }
    }

    /// The first 16 hex digits of HMAC-SHA256(secret, address): what the log writes for
    /// `address`, so that an operator can find a known address's events.
    public func pseudonym(_ address: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(address.utf8), using: pseudonymKey)
        return Hex.encode(mac.prefix(8))
    }

    private static func loadOrMakeSecret(path: String) throws -> SymmetricKey {
        if let existing = FileManager.default.contents(atPath: path), existing.count == 32 {
            return SymmetricKey(data: existing)
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return key
    }
}
