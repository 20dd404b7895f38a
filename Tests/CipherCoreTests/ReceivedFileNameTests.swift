import CipherCore
import Testing

/// The name a received file is saved under: the sender chose it.
@Suite("Received file names")
struct ReceivedFileNameTests {
    /// No separator, control, format character or leading dot survives, by scalar.
    static func isHarmless(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.first != "."
            && !name.unicodeScalars.contains { scalar in
                scalar == "/" || scalar == "\\" || scalar.properties.generalCategory == .control
                    || scalar.properties.generalCategory == .format
            }
    }

    @Test("a separator inside a grapheme cluster is taken out: ../\\u{301}x cannot name a path")
    func separatorInsideCluster() {
        let safe = ReceivedFileName.safe("../\u{301}x")
        #expect(!safe.unicodeScalars.contains("/"))
        #expect(safe == "_\u{301}x")
        #expect(ReceivedFileName.safe("/\u{301}etc/\u{301}passwd") == "_\u{301}etc_\u{301}passwd")
        #expect(ReceivedFileName.safe("a\\\u{301}b") == "a_\u{301}b")
    }

    @Test("escape sequences, other controls and bidirectional overrides are dropped")
    func controlsAndBidi() {
        #expect(ReceivedFileName.safe("report\u{1B}[2J\u{1B}]0;owned\u{07}.pdf") == "report[2J]0;owned.pdf")
        // U+202E would show "invoice‮fdp.exe" as "invoiceexe.pdf".
        #expect(ReceivedFileName.safe("invoice\u{202E}fdp.exe") == "invoicefdp.exe")
        #expect(ReceivedFileName.safe("a\u{2066}b\u{2069}c\u{200E}d\u{200B}e\u{FEFF}f") == "abcdef")
        #expect(ReceivedFileName.safe("line\nbreak\r\u{85}\u{2028}\u{2029}\u{0}\u{7F}\u{9B}end") == "linebreakend")
        #expect(ReceivedFileName.safe("é\u{301}ü") == "é\u{301}ü")
    }

    @Test("leading dots and surrounding spaces go; nothing left gives the fallback name")
    func leadingDots() {
        #expect(ReceivedFileName.safe(".bashrc") == "bashrc")
        #expect(ReceivedFileName.safe("...hidden") == "hidden")
        #expect(ReceivedFileName.safe(". .\u{202E}.profile ") == "profile")
        for nothing in [".", "..", "\u{1B}", "\u{202E}", "   ", ".\u{200B}."] {
            #expect(ReceivedFileName.safe(nothing) == ReceivedFileName.fallback)
        }
        // A dot inside the name is a dot.
        #expect(ReceivedFileName.safe("archive.tar.gz") == "archive.tar.gz")
    }

    @Test("a 10,000-character name is cut between scalars so the partial file's name fits 255 bytes")
    func longNames() {
        for unit in ["a", "é", "文", "🙂", "e\u{301}"] {
            let safe = ReceivedFileName.safe(String(repeating: unit, count: 10_000))
            #expect(safe.utf8.count <= ReceivedFileName.maxSize)
            #expect(safe.utf8.count + ".cipherchat-partial".utf8.count <= 255)
            #expect(safe.utf8.count > ReceivedFileName.maxSize - 4)
            #expect(safe.unicodeScalars.allSatisfy { unit.unicodeScalars.contains($0) })
        }
    }

    @Test("every name of up to three hostile pieces is harmless")
    func mixedPieces() {
        let pieces = ["..", ".", "/", "\\", "\u{301}", "\u{1B}", "\u{202E}", "\u{200B}", "a", " ", "\n", "文", "\u{9B}"]
        var names = [""]
        for _ in 0..<3 {
            names = names.flatMap { prefix in pieces.map { prefix + $0 } }
            for name in names {
                let safe = ReceivedFileName.safe(name)
                #expect(Self.isHarmless(safe), "\(name.unicodeScalars.map(\.value)) became \(safe.unicodeScalars.map(\.value))")
            }
        }
    }
}
