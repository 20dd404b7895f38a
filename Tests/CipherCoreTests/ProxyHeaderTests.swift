import CipherCore
import Testing

/// The PROXY protocol version 2 header a balancer sends before a client's bytes, parsed as
/// HAProxy's proxy-protocol.txt (section 2.2) lays it out.
@Suite("PROXY protocol v2 header")
struct ProxyHeaderTests {
    /// A header as HAProxy's `send-proxy-v2` writes it for a TCP client over IPv4:
    /// 192.0.2.10:51234 to 198.51.100.1:7443.
    static let ipv4: [UInt8] = ProxyHeader.signature + [0x21, 0x11, 0x00, 0x0C]
        + [192, 0, 2, 10] + [198, 51, 100, 1] + [0xC8, 0x22] + [0x1D, 0x13]

    @Test("an IPv4 client's address and port, and the header's length")
    func ipv4Client() throws {
        let parsed = try ProxyHeader.parse(Self.ipv4)
        #expect(parsed == .complete(ProxyHeader(source: .client(address: [192, 0, 2, 10], port: 51234), length: 28)))
    }

    @Test("an IPv6 client")
    func ipv6Client() throws {
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [7]
        let destination: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [1]
        let header = ProxyHeader.signature + [0x21, 0x21, 0x00, 0x24] + source + destination + [0x01, 0xBB, 0x1D, 0x13]
        #expect(try ProxyHeader.parse(header) == .complete(ProxyHeader(source: .client(address: source, port: 443), length: 52)))
    }

    @Test("records after the addresses are skipped; the client's bytes after the header are not read")
    func recordsAndTrailingBytes() throws {
        // One PP2_TYPE_AUTHORITY record ("relay"), then the start of a TLS ClientHello.
        let record: [UInt8] = [0x02, 0x00, 0x05] + Array("relay".utf8)
        var header = Self.ipv4
        header[15] = 0x0C + UInt8(record.count)
        let parsed = try ProxyHeader.parse(header + record + [0x16, 0x03, 0x01])
        #expect(parsed == .complete(ProxyHeader(source: .client(address: [192, 0, 2, 10], port: 51234), length: 28 + record.count)))
    }

    @Test("every shorter prefix of a header is incomplete, not refused")
    func prefixesAreIncomplete() throws {
        for count in 0..<Self.ipv4.count {
            #expect(try ProxyHeader.parse(Self.ipv4.prefix(count)) == .incomplete, "prefix of \(count) bytes")
        }
    }

    @Test("LOCAL, and PROXY with an unspecified family, use the connection's own address")
    func connectionItself() throws {
        let local = ProxyHeader.signature + [0x20, 0x00, 0x00, 0x00]
        #expect(try ProxyHeader.parse(local) == .complete(ProxyHeader(source: .connectionItself, length: 16)))
        let unspecified = ProxyHeader.signature + [0x21, 0x00, 0x00, 0x02, 0xAA, 0xBB]
        #expect(try ProxyHeader.parse(unspecified) == .complete(ProxyHeader(source: .connectionItself, length: 18)))
    }

    @Test("a TLS ClientHello or version 1's text header is refused at its first byte")
    func notAHeader() {
        #expect(throws: ProxyHeaderError.notAProxyHeader) { try ProxyHeader.parse([0x16]) }
        #expect(throws: ProxyHeaderError.notAProxyHeader) { try ProxyHeader.parse(Array("PROXY TCP4 192.0.2.10 ".utf8)) }
        // The signature's zero byte, wrong.
        var altered = Self.ipv4
        altered[4] = 0x01
        #expect(throws: ProxyHeaderError.notAProxyHeader) { try ProxyHeader.parse(altered.prefix(5)) }
    }

    @Test("headers this relay does not accept are refused with the reason")
    func refusals() {
        func header(_ versionCommand: UInt8, _ family: UInt8, length: UInt16) -> [UInt8] {
            ProxyHeader.signature + [versionCommand, family, UInt8(length >> 8), UInt8(length & 0xFF)]
        }
        let addresses = [UInt8](repeating: 1, count: 12)
        #expect(throws: ProxyHeaderError.unsupportedVersion) { try ProxyHeader.parse(header(0x31, 0x11, length: 12) + addresses) }
        #expect(throws: ProxyHeaderError.unsupportedCommand) { try ProxyHeader.parse(header(0x22, 0x11, length: 12) + addresses) }
        // UDP over IPv4, and a Unix socket.
        #expect(throws: ProxyHeaderError.unsupportedAddressFamily) { try ProxyHeader.parse(header(0x21, 0x12, length: 12) + addresses) }
        #expect(throws: ProxyHeaderError.unsupportedAddressFamily) {
            try ProxyHeader.parse(header(0x21, 0x31, length: 216) + [UInt8](repeating: 0, count: 216))
        }
        #expect(throws: ProxyHeaderError.truncatedAddresses) { try ProxyHeader.parse(header(0x21, 0x11, length: 8) + addresses.prefix(8)) }
        #expect(throws: ProxyHeaderError.truncatedAddresses) { try ProxyHeader.parse(header(0x21, 0x21, length: 12) + addresses) }
    }

    @Test("a header longer than the bound is refused from its length field, before its body arrives")
    func tooLong() throws {
        let longest = ProxyHeader.signature + [0x21, 0x11, 0x03, 0xF0]
        #expect(try ProxyHeader.parse(longest) == .incomplete)
        let over = ProxyHeader.signature + [0x21, 0x11, 0x03, 0xF1]
        #expect(throws: ProxyHeaderError.tooLong) { try ProxyHeader.parse(over) }
        #expect(throws: ProxyHeaderError.tooLong) { try ProxyHeader.parse(ProxyHeader.signature + [0x21, 0x11, 0xFF, 0xFF]) }
    }
}
