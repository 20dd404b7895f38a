import CipherTesting
import Testing

@testable import cipherchat

@Suite("Decoding terminal bytes into keys")
struct KeyDecoderTests {
    static let sequences: [(bytes: [UInt8], key: Key)] = [
        ([0x01], .home), ([0x05], .end), ([0x02], .left), ([0x06], .right),
        ([0x7F], .backspace), ([0x08], .backspace), ([0x0D], .enter), ([0x0A], .enter),
        ([0x15], .deleteToStart), ([0x0B], .deleteToEnd), ([0x17], .deleteWordBefore),
        ([0x03], .interrupt), ([0x04], .endOfInput), ([0x0C], .redraw), ([0x10], .up), ([0x0E], .down),
        (Array("\u{1B}[A".utf8), .up), (Array("\u{1B}[B".utf8), .down),
        (Array("\u{1B}[C".utf8), .right), (Array("\u{1B}[D".utf8), .left),
        (Array("\u{1B}OA".utf8), .up), (Array("\u{1B}OD".utf8), .left),
        (Array("\u{1B}[H".utf8), .home), (Array("\u{1B}[F".utf8), .end),
        (Array("\u{1B}OH".utf8), .home), (Array("\u{1B}OF".utf8), .end),
        (Array("\u{1B}[1~".utf8), .home), (Array("\u{1B}[7~".utf8), .home),
        (Array("\u{1B}[4~".utf8), .end), (Array("\u{1B}[8~".utf8), .end),
        (Array("\u{1B}[3~".utf8), .delete),
        (Array("\u{1B}[5~".utf8), .pageUp), (Array("\u{1B}[6~".utf8), .pageDown),
        (Array("\u{1B}[1;5C".utf8), .wordRight), (Array("\u{1B}[1;5D".utf8), .wordLeft),
        (Array("\u{1B}[1;3D".utf8), .wordLeft),
        (Array("\u{1B}b".utf8), .wordLeft), (Array("\u{1B}f".utf8), .wordRight),
        ([0x1B, 0x7F], .deleteWordBefore),
    ]

    @Test("control keys and escape sequences, whole or one byte at a time", arguments: sequences)
    func sequence(bytes: [UInt8], key: Key) {
        var whole = KeyDecoder()
        #expect(whole.decode(bytes) == [key])
        #expect(!whole.hasPending)

        var split = KeyDecoder()
        var keys: [Key] = []
        for byte in bytes { keys += split.decode([byte]) }
        #expect(keys == [key])
        #expect(!split.hasPending)
    }

    @Test("printable text arriving in one read is one key, so a paste is drawn once")
    func pasteIsOneKey() {
        var decoder = KeyDecoder()
        #expect(decoder.decode(Array("hello, bob".utf8)) == [.text("hello, bob")])
        #expect(decoder.decode(Array("a\rb".utf8)) == [.text("a"), .enter, .text("b")])
    }

    @Test("a UTF-8 character split across reads waits for its last byte")
    func splitUTF8() {
        var decoder = KeyDecoder()
        let bytes = Array("é€😀".utf8)
        var keys: [Key] = []
        for byte in bytes { keys += decoder.decode([byte]) }
        #expect(keys.map { key -> String in if case .text(let text) = key { text } else { "?" } }.joined() == "é€😀")
        #expect(!decoder.hasPending)
    }

    @Test("a lone escape waits, then counts as the escape key when flushed")
    func loneEscape() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0x1B]).isEmpty)
        #expect(decoder.hasPending)
        #expect(decoder.flush() == [.escape])
        #expect(!decoder.hasPending)
        #expect(decoder.decode(Array("x".utf8)) == [.text("x")])
    }

    @Test("an unknown sequence is swallowed whole and typing goes on")
    func unknownSequence() {
        var decoder = KeyDecoder()
        #expect(decoder.decode(Array("\u{1B}[200~a\u{1B}[99;9Xb".utf8)) == [.text("ab")])
    }

    @Test("invalid UTF-8 becomes U+FFFD and never stops the decoder")
    func invalidUTF8() {
        var decoder = KeyDecoder()
        #expect(decoder.decode([0xFF, 0x61]) == [.text("\u{FFFD}a")])
        #expect(decoder.decode([0xC3, 0x61]) == [.text("\u{FFFD}a")])
        #expect(decoder.decode([0xE2, 0x82]).isEmpty)
        #expect(decoder.flush() == [.text("\u{FFFD}")])
    }

    @Test("random bytes, in random pieces, decode without a crash and leave nothing stuck")
    func randomBytes() {
        let random = SeededRandomSource(seed: "key-decoder random bytes")
        for _ in 0..<200 {
            var decoder = KeyDecoder()
            let bytes = random.bytes(Int(random.bytes(1)[0] % 64))
            let pieces = random.bytes(bytes.count)
            var index = 0
            while index < bytes.count {
                let length = 1 + Int(pieces[index] % 5)
                _ = decoder.decode(bytes[index..<min(bytes.count, index + length)])
                index += length
            }
            _ = decoder.flush()
            #expect(!decoder.hasPending)
        }
    }
}
