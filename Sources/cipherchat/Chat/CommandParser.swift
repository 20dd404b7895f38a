import Foundation

/// What the user asked for with one line of input.
enum UserCommand: Equatable, Sendable {
    /// A line not starting with `/`: a message to the current conversation.
    case say(String)
    /// `/msg USER TEXT`: send to USER and switch to that conversation.
    case message(to: String, text: String)
    /// `/query USER`: switch to the conversation with USER.
    case query(String)
    /// `/who`: list contacts.
    case who
    /// `/verify USER NUMBER`: the safety number, digits only.
    case verify(String, safetyNumber: String)
    /// `/trust USER NUMBER`: accept USER's changed identity, confirmed by its safety number or
    /// fingerprint.
    case trust(String, confirmation: String)
    /// `/join #ROOM`: switch to the room's conversation.
    case join(String)
    /// `/create #ROOM`: create a room and switch to it.
    case create(String)
    /// `/invite [#ROOM] USER`: in the named room, or the current one.
    case invite(String, room: String?)
    /// `/remove [#ROOM] USER`.
    case remove(String, room: String?)
    /// `/leave [#ROOM]`.
    case leave(room: String?)
    /// `/members [#ROOM]`.
    case members(room: String?)
    /// `/file TO PATH`: upload the file at PATH for TO and send them its key.
    case sendFile(to: String, path: String)
    /// `/get ID [PATH]`: download a received file, as `cipherchat file get` does.
    case getFile(id: String, path: String?)
    /// `/window N`, `/window NAME`, alt-N: switch windows.
    case window(WindowTarget)
    /// `/window` alone: list the windows.
    case windowList
    /// `/close`, `/window close`: close the current window.
    case close
    /// `/set [bell on|off]`.
    case set(ChatSetting?)
    case help
    case quit
}

enum WindowTarget: Equatable, Sendable {
    case number(Int)
    case name(String)
}

/// What `/set` changes, for as long as the chat runs.
enum ChatSetting: Equatable, Sendable {
    case bell(Bool)
}

/// A line that is not a valid command, with what to tell the user.
struct CommandError: Error, Equatable, Sendable {
    let message: String
}

/// Parses input lines, irssi-style. Pure: no state, no I/O.
enum CommandParser {
    /// Shown by `/help`, one line each.
    static let help: [String] = [
        "/msg USER TEXT       send TEXT to USER and switch to that conversation",
        "/query USER          switch to the conversation with USER",
        "/who                 list contacts, their fingerprints and whether they are verified",
        "/verify USER NUMBER  compare USER's safety number (spaces allowed) and mark them verified",
        "/trust USER NUMBER   accept USER's changed identity, its safety number or fingerprint checked",
        "/join #ROOM          switch to a room you are a member of",
        "/create #ROOM        create a room, with you as its admin, and switch to it",
        "/invite [#ROOM] USER add USER to the room (admins only)",
        "/remove [#ROOM] USER remove USER from the room (admins only)",
        "/leave [#ROOM]       leave the room",
        "/members [#ROOM]     list the room's members",
        "/file TO PATH        send the file at PATH to TO, end-to-end encrypted",
        "/get ID [PATH]       fetch a received file (default: its name, in the current directory)",
        "/window N|NAME       switch to window N (1 is status) or to a conversation's window; alone, list them",
        "/close               close the current window (a room stays joined: /leave leaves it)",
        "/set bell on|off     ring the terminal's bell on a message for a window not in view (default on)",
        "/help                this list",
        "/quit                leave (also ctrl-c, or ctrl-d on an empty line)",
        "Any other line goes to the current conversation; start it with // to send a leading /.",
        "Keys: alt-1…9 (alt-0 for window 10) switch windows, page up/down scroll,",
        "  left/right and home/end (ctrl-a/ctrl-e) move, ctrl-u/ctrl-k/ctrl-w delete,",
        "  up/down recall earlier lines.",
    ]

    /// The command on `line`, nil for a blank line.
    static func parse(_ line: String) -> Result<UserCommand?, CommandError> {
        if line.allSatisfy(\.isWhitespace) { return .success(nil) }
        guard line.hasPrefix("/") else { return .success(.say(line)) }
        if line.hasPrefix("//") { return .success(.say(String(line.dropFirst()))) }

        let (name, arguments) = splitFirstWord(line.dropFirst())
        switch name.lowercased() {
        case "msg":
            let (user, text) = splitFirstWord(arguments)
            guard !user.isEmpty, !text.allSatisfy(\.isWhitespace) else { return usage("/msg USER TEXT") }
            return .success(.message(to: user, text: String(text)))
        case "query":
            return singleUser(arguments, usage: "/query USER").map { .query($0) }
        case "who":
            return noArguments(arguments, usage: "/who").map { .who }
        case "verify":
            let (user, number) = splitFirstWord(arguments)
            let digits = number.filter { !$0.isWhitespace }
            guard !user.isEmpty, !digits.isEmpty else { return usage("/verify USER NUMBER") }
            guard digits.allSatisfy(\.isASCIIDigit) else {
                return .failure(CommandError(message: "a safety number has only digits and spaces"))
            }
            return .success(.verify(user, safetyNumber: digits))
        case "trust":
            let (user, confirmation) = splitFirstWord(arguments)
            let typed = confirmation.filter { !$0.isWhitespace }
            guard !user.isEmpty, !typed.isEmpty else { return usage("/trust USER NUMBER-OR-FINGERPRINT") }
            return .success(.trust(user, confirmation: typed))
        case "join":
            return singleRoom(arguments, usage: "/join #ROOM").map { .join($0) }
        case "create":
            return singleRoom(arguments, usage: "/create #ROOM").map { .create($0) }
        case "invite", "remove":
            let (first, rest) = splitFirstWord(arguments)
            let (second, extra) = splitFirstWord(rest)
            let usageText = "/\(name.lowercased()) [#ROOM] USER"
            guard !first.isEmpty, extra.allSatisfy(\.isWhitespace) else { return usage(usageText) }
            let (room, user): (String?, String) = first.hasPrefix("#") ? (first, second) : (nil, first)
            guard !user.isEmpty, room != nil || second.isEmpty else { return usage(usageText) }
            return .success(name.lowercased() == "invite" ? .invite(user, room: room) : .remove(user, room: room))
        case "leave":
            return optionalRoom(arguments, usage: "/leave [#ROOM]").map { .leave(room: $0) }
        case "members":
            return optionalRoom(arguments, usage: "/members [#ROOM]").map { .members(room: $0) }
        case "file":
            let (user, path) = splitFirstWord(arguments)
            let trimmedPath = path.trimmingCharacters(in: .whitespaces)
            guard !user.isEmpty, !trimmedPath.isEmpty else { return usage("/file TO PATH") }
            return .success(.sendFile(to: user, path: trimmedPath))
        case "get":
            let (id, path) = splitFirstWord(arguments)
            let trimmedPath = path.trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty else { return usage("/get ID [PATH]") }
            return .success(.getFile(id: id, path: trimmedPath.isEmpty ? nil : trimmedPath))
        case "window", "win":
            return window(arguments)
        case "close", "wc":
            return noArguments(arguments, usage: "/close").map { .close }
        case "set":
            return setting(arguments)
        case "help":
            return .success(.help)
        case "quit", "exit":
            return .success(.quit)
        case "":
            return usage("/COMMAND; /help lists them")
        default:
            return .failure(CommandError(message: "unknown command /\(name); /help lists commands"))
        }
    }

    private static func window(_ arguments: Substring) -> Result<UserCommand?, CommandError> {
        var (word, rest) = splitFirstWord(arguments)
        if word.lowercased() == "goto" { (word, rest) = splitFirstWord(rest) }
        guard rest.allSatisfy(\.isWhitespace) else { return usage("/window N|NAME|close") }
        if word.isEmpty { return .success(.windowList) }
        if word.lowercased() == "close" { return .success(.close) }
        if let number = Int(word) {
            guard number >= 1 else { return usage("/window N (1 is the status window)") }
            return .success(.window(.number(number)))
        }
        return .success(.window(.name(word)))
    }

    private static func setting(_ arguments: Substring) -> Result<UserCommand?, CommandError> {
        let (name, rest) = splitFirstWord(arguments)
        let (value, extra) = splitFirstWord(rest)
        if name.isEmpty { return .success(.set(nil)) }
        guard name.lowercased() == "bell", extra.allSatisfy(\.isWhitespace) else { return usage("/set bell on|off") }
        switch value.lowercased() {
        case "on": return .success(.set(.bell(true)))
        case "off": return .success(.set(.bell(false)))
        default: return usage("/set bell on|off")
        }
    }

    /// The first blank-separated word and the rest after the blanks that follow it; the rest keeps
    /// its inner and trailing spacing, as typed.
    private static func splitFirstWord(_ text: Substring) -> (String, Substring) {
        let trimmed = text.drop(while: \.isWhitespace)
        let word = trimmed.prefix(while: { !$0.isWhitespace })
        let rest = trimmed[word.endIndex...].drop(while: \.isWhitespace)
        return (String(word), rest)
    }

    private static func singleUser(_ arguments: Substring, usage text: String) -> Result<String, CommandError> {
        let (user, rest) = splitFirstWord(arguments)
        guard !user.isEmpty, rest.allSatisfy(\.isWhitespace) else { return usage(text) }
        return .success(user)
    }

    private static func singleRoom(_ arguments: Substring, usage text: String) -> Result<String, CommandError> {
        singleUser(arguments, usage: text).flatMap { $0.hasPrefix("#") ? .success($0) : usage(text) }
    }

    private static func optionalRoom(_ arguments: Substring, usage text: String) -> Result<String?, CommandError> {
        if arguments.allSatisfy(\.isWhitespace) { return .success(nil) }
        return singleRoom(arguments, usage: text).map { Optional($0) }
    }

    private static func noArguments(_ arguments: Substring, usage text: String) -> Result<Void, CommandError> {
        arguments.allSatisfy(\.isWhitespace) ? .success(()) : usage(text)
    }

    private static func usage<T>(_ text: String) -> Result<T, CommandError> {
        .failure(CommandError(message: "usage: \(text)"))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
