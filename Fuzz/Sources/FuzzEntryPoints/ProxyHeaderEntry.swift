import CipherCore
import NIOCore

/// The relay's reader of the PROXY protocol version 2 header that a balancer sends before a
/// client's bytes (`ProxyHeader.parse`, as `ProxyHeaderHandler` calls it on what it has
/// received). Like NIO's `ByteToMessageDecoderVerifier`, it also reads every prefix of the input
/// (up to the longest header and one byte more): a prefix of a header is an incomplete header,
/// never an error; a prefix of bytes that are refused is incomplete or refused for the same
/// reason; bytes after a complete header change nothing.
enum ProxyHeaderEntry {
    static let longestHeader = ProxyHeader.fixedLength + ProxyHeader.maxVariableLength

    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        let received = ByteBuffer(bytes: bytes)
        let whole = Result { () throws(ProxyHeaderError) in try ProxyHeader.parse(received.readableBytesView) }
        if case .success(.complete(let header)) = whole {
            outcome.accepted = true
            outcome.completed = true
            outcome.check(
                header.length >= ProxyHeader.fixedLength && header.length <= min(bytes.count, longestHeader),
                "a header of \(header.length) bytes read from \(bytes.count)"
            )
            if case .client(let address, _) = header.source {
                outcome.check(address.count == 4 || address.count == 16, "a client address of \(address.count) bytes")
            }
        }
        for count in 0..<min(bytes.count, longestHeader + 1) {
            let prefix = bytes[..<count]
            let partial = Result { () throws(ProxyHeaderError) in try ProxyHeader.parse(prefix) }
            switch (whole, partial) {
            case (.success(.complete(let header)), .success(let parsed)):
                let expected: ProxyHeader.Parsed = count < header.length ? .incomplete : .complete(header)
                outcome.check(parsed == expected, "\(count) of the bytes of a \(header.length)-byte header read as \(parsed)")
            case (.success(.incomplete), .success(let parsed)):
                outcome.check(parsed == .incomplete, "\(count) of the bytes of an incomplete header read as \(parsed)")
            case (.failure(let error), .failure(let partialError)):
                outcome.check(partialError == error, "\(count) bytes refused as \(partialError), all of them as \(error)")
            case (.failure, .success(let parsed)):
                outcome.check(parsed == .incomplete, "\(count) bytes read as \(parsed), all of them refused")
            case (.success, .failure(let error)):
                outcome.check(false, "\(count) bytes refused as \(error), all of them accepted")
            }
        }
    }
}
