@testable import CipherServer
import CipherCore
import CipherRelay
import CipherTesting
import CipherWire
import Foundation
import Testing

/// A relay behind a balancer that sends the PROXY protocol version 2 header: limits and the
/// security log see the client's address, only the balancers named may name one, and a
/// balancer's connection without a header is refused.
@Suite("PROXY protocol v2 from a balancer")
struct ProxyProtocolTests {
    /// The balancer: the relay takes headers only from this loopback address.
    static let balancer = "127.0.0.1"
    /// A client of the relay's own, on another loopback address.
    static let directClient = "127.0.0.2"
    /// A frame the relay cannot decode: it logs `malformed_frame` with the address it believes,
    /// and hangs up.
    static let malformedFrame: [UInt8] = [0, 0, 0, 3, 0xFF, 0xFF, 0xFF]

    /// `send-proxy-v2`'s header for a TCP client at `client` (IPv4 text) to the relay.
    static func header(client: String, port: UInt16 = 50_000) -> [UInt8] {
        let address = client.split(separator: ".").map { UInt8($0)! }
        return ProxyHeader.signature + [0x21, 0x11, 0x00, 0x0C] + address + [127, 0, 0, 1]
            + [UInt8(port >> 8), UInt8(port & 0xFF), 0x1D, 0x13]
    }

    @Test("the security log records the address the balancer names, not the balancer's")
    func clientAddressFromHeader() async throws {
        let relay = try await TestRelay.start(proxyFrom: [AddressRange("\(Self.balancer)/32")!])
        let client = try await RawTLSClient.connect(
            port: relay.port, trust: relay.trust, from: Self.balancer, proxyHeader: Self.header(client: "192.0.2.10")
        )
        let frames = try await client.exchange(Self.malformedFrame)
        #expect(frames.contains { if case .error(let error) = $0.body { error.code == .malformedFrame } else { false } })
        let log = try SecurityLogLines(directory: relay.directory)
        #expect(log.events(.malformedFrame, from: "192.0.2.10").count == 1)
        #expect(log.events(.malformedFrame, from: Self.balancer).isEmpty)
        await relay.stop()
    }

    @Test("the per-address limit counts each client behind the balancer on its own")
    func perClientLimit() async throws {
        let relay = try await TestRelay.start(proxyFrom: [AddressRange("127.0.0.0/30")!]) { $0.maxConnectionsPerAddress = 1 }
        let first = try await RawTLSClient.connect(
            port: relay.port, trust: relay.trust, from: Self.balancer, proxyHeader: Self.header(client: "192.0.2.10")
        )
        let admitted = try await Patience.poll(upTo: .seconds(30)) { relay.server.openConnections == 1 }
        #expect(admitted)
        // The same client again, through the balancer: over its limit.
        let again = try await RawTLSClient.connect(
            port: relay.port, trust: relay.trust, from: Self.balancer, proxyHeader: Self.header(client: "192.0.2.10", port: 50_001)
        )
        let refusal = try await again.exchange([])
        guard case .error(let error) = refusal.last?.body else {
            Issue.record("expected the second connection of 192.0.2.10 to be refused")
            return
        }
        #expect(error.code == .tooManyConnections)
        #expect(error.limit == "connections_per_address")
        // Another client through the same balancer is admitted: its frame is read and refused
        // as malformed, not as one connection too many.
        let other = try await RawTLSClient.connect(
            port: relay.port, trust: relay.trust, from: Self.balancer, proxyHeader: Self.header(client: "192.0.2.11")
        )
        let frames = try await other.exchange(Self.malformedFrame)
        #expect(frames.contains { if case .error(let error) = $0.body { error.code == .malformedFrame } else { false } })
        let log = try SecurityLogLines(directory: relay.directory)
        #expect(log.events(.connectionRefused, from: "192.0.2.10").count == 1)
        #expect(log.events(.malformedFrame, from: "192.0.2.11").count == 1)
        try await first.channel.channel.close()
        await relay.stop()
    }

    @Test("a balancer's connection without a header is refused; a client's own is served, and its header never read")
    func onlyBalancersNameAddresses() async throws {
        let relay = try await TestRelay.start(proxyFrom: [AddressRange(Self.balancer)!])
        // TLS straight from the balancer's address: its ClientHello is not a header.
        let headerless = try await RawTLSClient.connect(port: relay.port, trust: relay.trust, from: Self.balancer)
        _ = try? await headerless.exchange([])
        // A client elsewhere that claims an address: its header goes to TLS, which fails.
        let forger = try await RawTLSClient.connect(
            port: relay.port, trust: relay.trust, from: Self.directClient, proxyHeader: Self.header(client: "192.0.2.66")
        )
        _ = try? await forger.exchange(Self.malformedFrame)
        // A client elsewhere speaking TLS directly is served, under its own address.
        let direct = try await RawTLSClient.connect(port: relay.port, trust: relay.trust, from: Self.directClient)
        let frames = try await direct.exchange(Self.malformedFrame)
        #expect(frames.contains { if case .error(let error) = $0.body { error.code == .malformedFrame } else { false } })

        let log = try SecurityLogLines(directory: relay.directory)
        let refused = log.events(.proxyHeaderRefused, from: Self.balancer)
        #expect(refused.count == 1)
        #expect(refused.first?["detail"] == "not_a_proxy_header")
        #expect(log.events(.malformedFrame, from: Self.directClient).count == 1)
        #expect(log.lines.allSatisfy { $0["address"] != log.pseudonym("192.0.2.66") })
        await relay.stop()
    }

    @Test("CIDR blocks: IPv4, IPv6, IPv4 written as IPv6, and what is not one")
    func addressRanges() throws {
        let private10 = try #require(AddressRange("10.0.0.0/8"))
        #expect(private10.contains([10, 200, 3, 4]))
        #expect(!private10.contains([11, 0, 0, 1]))
        #expect(private10.contains(Array(repeating: 0, count: 10) + [0xFF, 0xFF, 10, 1, 2, 3]))
        #expect(private10.description == "10.0.0.0/8")
        let odd = try #require(AddressRange("172.16.0.0/12"))
        #expect(odd.contains([172, 31, 255, 255]))
        #expect(!odd.contains([172, 32, 0, 0]))
        let unique = try #require(AddressRange("fd00::/8"))
        #expect(unique.contains([0xFD] + Array(repeating: 7, count: 15)))
        #expect(!unique.contains([10, 0, 0, 1]))
        #expect(AddressRange("192.0.2.7")?.description == "192.0.2.7/32")
        #expect(AddressRange("192.0.2.7/33") == nil)
        #expect(AddressRange("192.0.2/24") == nil)
        #expect(AddressRange("balancer") == nil)
        #expect(AddressRange("10.0.0.0/-1") == nil)
        #expect(AddressRange("10.0.0.0/+8") == nil)
    }
}

/// The lines of a relay's security log, with its pseudonyms for addresses.
struct SecurityLogLines {
    let lines: [[String: String]]
    private let log: FileSecurityLog

    init(directory: String) throws {
        let text = try String(contentsOfFile: directory + "/security.log", encoding: .utf8)
        lines = text.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]
        }
        // Opened on the same directory, it takes the same pseudonym key.
        log = try FileSecurityLog(directory: directory)
    }

    func pseudonym(_ address: String) -> String { log.pseudonym(address) }

    func events(_ kind: SecurityEvent.Kind, from address: String) -> [[String: String]] {
        lines.filter { $0["event"] == kind.rawValue && $0["address"] == pseudonym(address) }
    }
}
