#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// A block of IP addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7` for one
/// address): the balancers the relay takes PROXY protocol headers from (`--proxy-from`).
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, with the bits past `prefixLength` zero.
    private let network: [UInt8]
    private let prefixLength: Int

    /// Parses `ADDRESS/BITS` or a bare address (all its bits); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.addressBytes(String(parts[0])) else { return nil }
        let bits = address.count * 8
        let prefix: Int
        if parts.count == 2 {
            guard let parsed = Int(parts[1]), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), (0...bits).contains(parsed) else { return nil }
            prefix = parsed
        } else {
            prefix = bits
        }
        network = Self.masked(address, prefixLength: prefix)
        prefixLength = prefix
    }

    /// Whether `address` (4 or 16 bytes) is in the range. An IPv4 address written as IPv6
    /// (`::ffff:a.b.c.d`, how a relay listening on `::` sees IPv4 peers) counts as IPv4.
    public func contains(_ address: [UInt8]) -> Bool {
        let address = Self.unmapped(address)
        return address.count == network.count && Self.masked(address, prefixLength: prefixLength) == network
    }

    /// Whether the peer at `address` is in the range; false for a Unix socket or no address.
    public func contains(_ address: SocketAddress?) -> Bool {
        guard let bytes = address.flatMap(Self.addressBytes) else { return false }
        return contains(bytes)
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        network.withUnsafeBytes { raw in
            _ = inet_ntop(network.count == 4 ? AF_INET : AF_INET6, raw.baseAddress, &text, socklen_t(text.count))
        }
        let prefix = text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return "\(String(decoding: prefix, as: UTF8.self))/\(prefixLength)"
    }

    /// The bytes of an IP address in text, IPv4 or IPv6.
    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The bytes of a socket address's IP address.
    static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4): withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket: nil
        }
    }

    private static let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]

    static func unmapped(_ address: [UInt8]) -> [UInt8] {
        address.count == 16 && address.starts(with: mappedPrefix) ? Array(address.suffix(4)) : address
    }

    private static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let bitsKept = min(max(prefixLength - index * 8, 0), 8)
            return bitsKept == 8 ? byte : byte & ~(0xFF >> bitsKept)
        }
    }
}
