import Testing

@testable import cipherchat

@Suite("Parsing input lines into commands")
struct CommandParserTests {
    static let valid: [(line: String, command: UserCommand)] = [
        ("hello bob", .say("hello bob")),
        ("  indented, as typed ", .say("  indented, as typed ")),
        ("//etc/passwd is a path", .say("/etc/passwd is a path")),
        ("/msg bob hi there", .message(to: "bob", text: "hi there")),
        ("/msg   bob    spaced  out ", .message(to: "bob", text: "spaced  out ")),
        ("/MSG bob hi", .message(to: "bob", text: "hi")),
        ("/query carol", .query("carol")),
        ("/query carol  ", .query("carol")),
        ("/who", .who),
        ("/verify bob 12345 67890 11111", .verify("bob", safetyNumber: "123456789011111")),
        ("/verify bob 123456789011111", .verify("bob", safetyNumber: "123456789011111")),
        ("/trust bob 1234 5678", .trust("bob", confirmation: "12345678")),
        ("/file bob /tmp/report.pdf", .sendFile(to: "bob", path: "/tmp/report.pdf")),
        ("/file  bob  notes with spaces.txt ", .sendFile(to: "bob", path: "notes with spaces.txt")),
        ("/help", .help),
        ("/help msg", .help),
        ("/quit", .quit),
        ("/exit", .quit),
    ]

    @Test("valid lines", arguments: valid)
    func validLine(line: String, command: UserCommand) throws {
        #expect(try CommandParser.parse(line).get() == command)
    }

    @Test("blank lines are no command at all", arguments: ["", "   ", "\t"])
    func blank(line: String) throws {
        #expect(try CommandParser.parse(line).get() == nil)
    }

    static let invalid: [(line: String, message: String)] = [
        ("/msg", "usage: /msg USER TEXT"),
        ("/msg bob", "usage: /msg USER TEXT"),
        ("/msg bob   ", "usage: /msg USER TEXT"),
        ("/query", "usage: /query USER"),
        ("/query bob carol", "usage: /query USER"),
        ("/who bob", "usage: /who"),
        ("/verify bob", "usage: /verify USER NUMBER"),
        ("/verify bob 1234x", "a safety number has only digits and spaces"),
        ("/trust", "usage: /trust USER NUMBER-OR-FINGERPRINT"),
        ("/trust bob", "usage: /trust USER NUMBER-OR-FINGERPRINT"),
        ("/file", "usage: /file TO PATH"),
        ("/file bob", "usage: /file TO PATH"),
        ("/file bob   ", "usage: /file TO PATH"),
        ("/", "usage: /COMMAND; /help lists them"),
        ("/frobnicate now", "unknown command /frobnicate; /help lists commands"),
    ]

    @Test("invalid lines say what is wrong", arguments: invalid)
    func invalidLine(line: String, message: String) {
        #expect(CommandParser.parse(line) == .failure(CommandError(message: message)))
    }
}
