import Foundation
import CipherCore
import CipherNIO

/// Where the relay is and how to trust it.
public struct ServerEndpoint: Sendable, Hashable {
    public let host: String
    public let port: Int

    /// Parses `HOST:PORT` (`[::1]:PORT` for IPv6).
    public init(_ text: String) throws {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(after: close)...].dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            throw ClientError.invalidServerAddress(text)
        }
        guard !hostPart.isEmpty, let port = Int(portPart), (1...65535).contains(port) else {
            throw ClientError.invalidServerAddress(text)
        }
        host = String(hostPart)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension RelayTLS.ServerTrust {
    /// `pin:HEX` or `ca:PATH`, as stored in the client's settings.
    var settingValue: String {
        switch self {
        case .pinned(let hash): "pin:" + Hex.encode(hash)
        case .certificateAuthority(let file): "ca:" + file
        }
    }

    init?(settingValue: String) {
        if settingValue.hasPrefix("pin:") {
            guard let bytes = Hex.decode(String(settingValue.dropFirst(4))), bytes.count == 32 else { return nil }
            self = .pinned(certificateHash: bytes)
        } else if settingValue.hasPrefix("ca:") {
            self = .certificateAuthority(pemFile: String(settingValue.dropFirst(3)))
        } else {
            return nil
        }
    }
}
