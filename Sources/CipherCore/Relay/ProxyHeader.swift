/// The header of version 2 of the PROXY protocol (HAProxy's `send-proxy-v2`): a load balancer
/// that forwards a client's TCP connection to the relay first sends this binary header, naming
/// the client's address, so that the relay's per-address limits and security log see the client
/// rather than the balancer. docs/DEPLOY.md says when the relay reads it; PROTOCOL.md does not
/// cover it, since clients never send it.
///
/// Layout (HAProxy's proxy-protocol.txt, section 2.2): the 12-byte `signature`; one byte whose
/// high nibble is the version (2) and low nibble the command (0 LOCAL, 1 PROXY); one byte whose
/// high nibble is the address family (0 unspecified, 1 IPv4, 2 IPv6, 3 Unix) and low nibble the
/// transport (0 unspecified, 1 stream, 2 datagram); a big-endian `UInt16` counting the bytes that
/// follow; then the addresses (IPv4: source, destination, source port, destination port, 12
/// bytes; IPv6: 36 bytes) and optional type-length-value records, which the relay skips.
public struct ProxyHeader: Sendable, Hashable {
    /// Whose address the connection carries.
    public enum Source: Sendable, Hashable {
        /// The client's address, 4 bytes (IPv4) or 16 (IPv6), and its port.
        case client(address: [UInt8], port: UInt16)
        /// The balancer's own connection (a `LOCAL` command, a health check say) or an
        /// unspecified family: the connection's own endpoints are the ones to use.
        case connectionItself
    }

    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The signature, the version and command, the family and transport, the length.
    public static let fixedLength = 16
    /// The most the relay reads after the fixed part: the largest address block (Unix, 216
    /// bytes) and room for the records a balancer may add. A longer header is refused, so a
    /// connection cannot make the relay buffer more than this before TLS begins.
    public static let maxVariableLength = 1008

    public let source: Source
    /// The header's length in bytes: the client's TLS records begin right after it.
    public let length: Int

    public init(source: Source, length: Int) {
        self.source = source
        self.length = length
    }

    /// What the bytes received so far hold.
    public enum Parsed: Sendable, Hashable {
        /// A valid beginning of a header, not yet whole.
        case incomplete
        case complete(ProxyHeader)
    }

    /// Reads a header from the first bytes of a connection. Bytes after the header are not
    /// looked at. Refuses as soon as the bytes cannot begin a header this relay accepts, so a
    /// peer that does not speak the protocol is told at its first byte.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ProxyHeaderError) -> Parsed {
        let prefix = Array(bytes.prefix(fixedLength))
        guard prefix.prefix(signature.count).elementsEqual(signature.prefix(prefix.count)) else { throw .notAProxyHeader }
        guard prefix.count == fixedLength else { return .incomplete }
        let versionAndCommand = prefix[12]
        guard versionAndCommand >> 4 == 2 else { throw .unsupportedVersion }
        let command = versionAndCommand & 0x0F
        guard command <= 1 else { throw .unsupportedCommand }
        let family = prefix[13] >> 4
        let transport = prefix[13] & 0x0F
        let variableLength = Int(prefix[14]) << 8 | Int(prefix[15])
        guard variableLength <= maxVariableLength else { throw .tooLong }
        let length = fixedLength + variableLength
        guard bytes.count >= length else { return .incomplete }

        // A LOCAL connection is the balancer's own: what follows, if anything, is ignored.
        guard command == 1, family != 0 else { return .complete(ProxyHeader(source: .connectionItself, length: length)) }
        guard transport == 1, family == 1 || family == 2 else { throw .unsupportedAddressFamily }
        let addressLength = family == 1 ? 4 : 16
        guard variableLength >= 2 * addressLength + 4 else { throw .truncatedAddresses }
        let addresses = Array(bytes.dropFirst(fixedLength).prefix(2 * addressLength + 4))
        let sourcePort = UInt16(addresses[2 * addressLength]) << 8 | UInt16(addresses[2 * addressLength + 1])
        return .complete(ProxyHeader(source: .client(address: Array(addresses.prefix(addressLength)), port: sourcePort), length: length))
    }
}

/// Why the first bytes of a connection are not a PROXY protocol version 2 header the relay
/// accepts.
public struct ProxyHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case notAProxyHeader, unsupportedVersion, unsupportedCommand, unsupportedAddressFamily
        case truncatedAddresses, tooLong
    }

    private let code: Code

    /// The bytes do not begin with the version 2 signature (a client speaking TLS directly, or
    /// version 1's text header).
    public static let notAProxyHeader = Self(code: .notAProxyHeader)
    public static let unsupportedVersion = Self(code: .unsupportedVersion)
    public static let unsupportedCommand = Self(code: .unsupportedCommand)
    /// A PROXY command for anything but TCP over IPv4 or IPv6 (a Unix socket, UDP).
    public static let unsupportedAddressFamily = Self(code: .unsupportedAddressFamily)
    /// The length leaves no room for the addresses the family needs.
    public static let truncatedAddresses = Self(code: .truncatedAddresses)
    /// More than `ProxyHeader.maxVariableLength` bytes after the fixed part.
    public static let tooLong = Self(code: .tooLong)

    /// A short name for logs and the security log's detail.
    public var description: String {
        switch code {
        case .notAProxyHeader: "not_a_proxy_header"
        case .unsupportedVersion: "unsupported_version"
        case .unsupportedCommand: "unsupported_command"
        case .unsupportedAddressFamily: "unsupported_address_family"
        case .truncatedAddresses: "truncated_addresses"
        case .tooLong: "too_long"
        }
    }
}
