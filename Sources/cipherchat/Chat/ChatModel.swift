import Foundation

/// The chat's state — conversations, what each one shows, unread counts, who is verified, the
/// connection — as a state machine: backend events, typed lines and backend replies go in;
/// requests for the backend, lines to show and quitting come out as `Effect`s, which
/// `FullScreenChat` and `PlainChat` carry out. No I/O, no clock: `now` is passed in.
struct ChatModel: Sendable {
    /// Lines kept per window; older ones are dropped.
    static let lineLimit = ChatWindows.lineLimit

    /// What the model asks the backend to do.
    enum Request: Equatable, Sendable {
        case send(to: String, text: String)
        case contacts
        case verify(String, safetyNumber: String)
        case trust(String, confirmation: String)
        case room(RoomRequest)
        case sendFile(to: String, path: String)
        /// `/join`: checks the room before its window opens.
        case join(String)
        case getFile(id: String, path: String?)
    }

    /// How a request ended. `.failed` carries the error's text, shown as an error line.
    enum Reply: Equatable, Sendable {
        /// A send finished: the relay stored the message.
        case sent(ChatMessage)
        case contacts([ChatContact])
        case verification(String, matched: Bool)
        case trusted(String)
        /// A room request was carried out; the lines go to the room's pane.
        case room(RoomRequest, lines: [String])
        case fileSent(to: String, SentFile)
        case joined(String, lines: [String])
        case fileSaved(SavedFile)
        case failed(Request, message: String)
    }

    enum Effect: Equatable, Sendable {
        case perform(Request)
        /// A line was added to `conversation`'s pane (nil: the status pane).
        case show(PaneLine, conversation: String?)
        /// A message arrived for a window not in view: the terminal's bell.
        case bell
        case quit
    }

    let username: String
    private(set) var connection: ChatEvent.ConnectionState = .connecting
    /// The conversation on screen; nil shows the status pane.
    private(set) var current: String?
    private(set) var verified: Set<String> = []
    /// The conversations' windows (window 2 onwards); `status` is window 1's lines.
    private(set) var windows = ChatWindows()
    private var status: [PaneLine] = []
    /// Rows scrolled up from the bottom of the current pane; the renderer clamps it.
    var scrollback = 0
    /// Requests not yet answered: quitting waits for them, so that a message typed just before
    /// `/quit` is not lost without a word, and piped commands get their answers in plain mode.
    private(set) var pendingSends = 0
    /// The pending lines of the sends not yet answered, oldest first, with their conversation.
    private var pendingLines: [(id: Int, conversation: String)] = []
    private var nextPendingID = 1
    /// The user's own messages shown: one sent through the home's owner comes both as the
    /// send's answer and as the owner's notification, and shows once.
    private var ownMessageIDs: Set<String> = []
    private(set) var pendingQueries = 0
    private(set) var isQuitting = false
    /// Whether a message for a window not in view rings the terminal's bell (`/set bell`).
    private(set) var bell = true
    /// The connection state last told in the pane: nil before the first.
    private var announcedConnected: Bool?

    init(username: String, initialConversation: String? = nil, now: Date, bell: Bool = true) {
        self.username = username
        self.current = initialConversation
        self.bell = bell
        if let initialConversation { windows.open(initialConversation) }
        append(.info("CipherChat as \(username). /help lists commands.", at: now), to: nil)
    }

    /// The current pane's lines, oldest first.
    var currentLines: [PaneLine] { lines(of: current) }

    func lines(of conversation: String?) -> [PaneLine] {
        conversation.map { windows.lines(of: $0) } ?? status
    }

    /// Conversations with unread messages, in name order, for the status line.
    var unreadConversations: [(name: String, count: Int)] {
        windows.unread.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { (name: $0.key, count: $0.value) }
    }

    // MARK: Inputs

    mutating func receive(_ event: ChatEvent, now: Date) -> [Effect] {
        receive(event, now: now, live: true)
    }

    /// `live` false: from the history shown at start, which is not new to the user.
    private mutating func receive(_ event: ChatEvent, now: Date, live: Bool) -> [Effect] {
        switch event {
        case .message(let message):
            if message.from == username, !ownMessageIDs.insert(message.id).inserted { return [] }
            let peer = message.peer(of: username)
            if peer.first != "#" {
                if message.verified { verified.insert(peer) } else { verified.remove(peer) }
            }
            guard live, message.from != username, peer != current else { return [append(.message(message), to: peer)] }
            windows.markUnseen(peer)
            let shown = append(.message(message), to: peer)
            return bell ? [shown, .bell] : [shown]
        case .history(let events):
            return events.flatMap { receive($0, now: now, live: false) }
        case .connection(let state):
            connection = state
            // Announced once per change between up and down, not at every retry in between.
            switch state {
            case .connecting, .throughOwner: return []
            case .connected:
                guard announcedConnected != true else { return [] }
                announcedConnected = true
                return [append(.info("connected", at: now), to: current)]
            case .disconnected(let seconds):
                guard announcedConnected != false else { return [] }
                announcedConnected = false
                return [append(.info("disconnected; retrying in \(Self.seconds(seconds))", at: now), to: current)]
            }
        case .warning(let text):
            return [append(.warning(text, at: now), to: current)]
        case .info(let text):
            return [append(.info(text, at: now), to: current)]
        case .membership(let room, let text):
            if live, room != current {
                windows.markUnseen(room)
            }
            return [append(.info(text, at: now), to: room)]
        }
    }

    /// A line the user typed: a command or a message.
    mutating func submit(_ line: String, now: Date) -> [Effect] {
        switch CommandParser.parse(line) {
        case .success(nil): return []
        case .success(let command?): return run(command, now: now)
        case .failure(let error): return [append(.error(error.message, at: now), to: current)]
        }
    }

    mutating func run(_ command: UserCommand, now: Date) -> [Effect] {
        switch command {
        case .say(let text):
            guard let current else {
                return [append(.error("no conversation: /query USER or /msg USER TEXT first", at: now), to: nil)]
            }
            return send(text, to: current, now: now)
        case .message(let user, let text):
            switchTo(user)
            return send(text, to: user, now: now)
        case .query(let user):
            switchTo(user)
            return []
        case .who: return [perform(.contacts)]
        case .verify(let user, let number): return [perform(.verify(user, safetyNumber: number))]
        case .trust(let user, let confirmation): return [perform(.trust(user, confirmation: confirmation))]
        case .join(let room):
            guard !windows.contains(room) else {
                switchTo(room)
                return []
            }
            return [perform(.join(room))]
        case .create(let room):
            switchTo(room)
            return [perform(.room(.create(room)))]
        case .invite(let user, let room):
            guard let room = room ?? currentRoom else { return [noRoom("/invite #ROOM USER", now: now)] }
            return [perform(.room(.invite(user, room: room)))]
        case .remove(let user, let room):
            guard let room = room ?? currentRoom else { return [noRoom("/remove #ROOM USER", now: now)] }
            return [perform(.room(.remove(user, room: room)))]
        case .leave(let room):
            guard let room = room ?? currentRoom else { return [noRoom("/leave #ROOM", now: now)] }
            return [perform(.room(.leave(room)))]
        case .members(let room):
            guard let room = room ?? currentRoom else { return [noRoom("/members #ROOM", now: now)] }
            return [perform(.room(.members(room)))]
        case .sendFile(let user, let path):
            return [append(.info("sending \(path) to \(user)…", at: now), to: current), perform(.sendFile(to: user, path: path))]
        case .getFile(let id, let path):
            return [append(.info("fetching file \(id)…", at: now), to: current), perform(.getFile(id: id, path: path))]
        case .window(let target): return goTo(target, now: now)
        case .windowList: return [append(.info("windows: " + windowList, at: now), to: current)]
        case .close: return closeWindow(now: now)
        case .set(let setting): return set(setting, now: now)
        case .help: return CommandParser.help.map { append(.info($0, at: now), to: current) }
        case .quit: return quit(now: now)
        }
    }

    /// Quits once the pending requests are answered; asked a second time, quits at once.
    mutating func quit(now: Date) -> [Effect] {
        guard pendingSends + pendingQueries > 0, !isQuitting else { return [.quit] }
        isQuitting = true
        let waitingFor =
            switch pendingSends {
            case 0: "the client to answer"
            case 1: "the relay to store 1 message"
            default: "the relay to store \(pendingSends) messages"
            }
        return [append(.info("waiting for \(waitingFor); /quit or ctrl-c again to leave now", at: now), to: current)]
    }

    /// Quits once the pending requests are answered, without a word: for the end of piped
    /// input, where nobody is there to press ctrl-c.
    mutating func quitWhenAnswered() -> [Effect] {
        isQuitting = true
        return pendingSends + pendingQueries == 0 ? [.quit] : []
    }

    /// The backend's event stream finished: nothing more will arrive.
    mutating func eventsEnded(now: Date) -> [Effect] {
        [append(.error("the client has stopped: no more messages will arrive; /quit to leave", at: now), to: current)]
    }

    mutating func complete(_ reply: Reply, now: Date) -> [Effect] {
        var effects = answer(reply, now: now)
        // Floored: a reply the model did not ask for must not make it wait forever.
        if reply.isSendAnswer {
            pendingSends = max(0, pendingSends - 1)
        } else {
            pendingQueries = max(0, pendingQueries - 1)
        }
        if isQuitting, pendingSends + pendingQueries == 0 { effects.append(.quit) }
        return effects
    }

    private mutating func answer(_ reply: Reply, now: Date) -> [Effect] {
        switch reply {
        case .sent(let message):
            guard ownMessageIDs.insert(message.id).inserted else {
                removeOldestPending()
                return []
            }
            return [replacePending(with: .message(message), conversation: message.peer(of: username))]
        case .contacts(let contacts):
            for contact in contacts {
                if contact.verified { verified.insert(contact.username) } else { verified.remove(contact.username) }
            }
            return Self.contactLines(contacts).map { append(.info($0, at: now), to: current) }
        case .verification(let user, matched: true):
            verified.insert(user)
            return [append(.info("\(user) is verified ✓", at: now), to: current)]
        case .verification(let user, matched: false):
            let text = "that is not \(user)'s safety number; \(user) stays unverified. Compare it again, digit by digit"
            return [append(.error(text, at: now), to: current)]
        case .trusted(let user):
            verified.remove(user)
            let text = "accepted \(user)'s new identity; compare safety numbers and /verify \(user)"
            return [append(.info(text, at: now), to: current)]
        case .room(let request, let lines):
            return lines.map { append(.info($0, at: now), to: request.room) }
        case .fileSent(let user, let file):
            let text = "sent file \(file.name) (\(file.size) bytes) to \(user) id \(file.id)"
            return [append(.info(text, at: now), to: current)]
        case .joined(let room, let lines):
            switchTo(room)
            return lines.map { append(.info($0, at: now), to: room) }
        case .fileSaved(let file):
            let text = "saved \(file.name) (\(file.size) bytes) to \(file.path) sha256=\(file.sha256)"
            return [append(.info(text, at: now), to: current)]
        case .failed(let request, let message):
            return failed(request, message: message, now: now)
        }
    }

    /// The current conversation when it is a room.
    private var currentRoom: String? { current?.first == "#" ? current : nil }

    private mutating func noRoom(_ usage: String, now: Date) -> Effect {
        append(.error("not in a room: \(usage)", at: now), to: current)
    }

    mutating func scroll(by rows: Int) {
        scrollback = max(0, scrollback + rows)
    }

    // MARK: Windows

    /// The window list as the status line and `/window` show it: `1:status 2:bob 3:#team*`,
    /// a `*` after a window with lines the user has not seen.
    var windowEntries: [(number: Int, name: String, active: Bool)] {
        [(1, "status", false)] + windows.names.enumerated().map { index, name in
            (index + 2, name, (windows.unread[name] ?? 0) > 0)
        }
    }

    private var windowList: String {
        windowEntries.map { "\($0.number):\($0.name)" + ($0.active ? "*" : "") }.joined(separator: " ")
    }

    /// The number of the window on screen.
    var currentWindowNumber: Int {
        current.flatMap { windows.number(of: $0) } ?? 1
    }

    /// Where the "new messages" line goes in the current pane: before the first line the user
    /// has not seen, nil when they have seen them all.
    var readMarkerIndex: Int? {
        current.flatMap { windows.readMarkerIndex($0) }
    }

    /// Alt-1…9 and `/window N`: the status window is 1.
    mutating func goTo(_ target: WindowTarget, now: Date) -> [Effect] {
        switch target {
        case .number(1):
            switchTo(nil)
        case .number(let number) where windows.name(ofWindow: number) != nil:
            switchTo(windows.name(ofWindow: number))
        case .number(let number):
            return [append(.error("no window \(number); windows: \(windowList)", at: now), to: current)]
        case .name(let name):
            guard windows.contains(name) else {
                return [append(.error("no window \(name); /query USER or /join #ROOM opens one", at: now), to: current)]
            }
            switchTo(name)
        }
        return []
    }

    /// `/close`: the current window goes, with its lines, and the one before it shows; the
    /// windows after it move down a number, as in irssi. A room stays joined (`/leave` leaves
    /// it); a message that comes later opens the window again.
    private mutating func closeWindow(now: Date) -> [Effect] {
        guard let closing = current, let number = windows.number(of: closing) else {
            return [append(.error("the status window cannot be closed", at: now), to: nil)]
        }
        switchTo(windows.name(ofWindow: number - 1))
        // A send still pending is shown again, as sent or failed, when it is answered.
        windows.close(closing)
        return []
    }

    private mutating func set(_ setting: ChatSetting?, now: Date) -> [Effect] {
        switch setting {
        case .bell(let on)?:
            bell = on
            return [append(.info("bell \(on ? "on" : "off")", at: now), to: current)]
        case nil:
            return [append(.info("bell \(bell ? "on" : "off")  (a message for a window not in view rings the terminal's bell)", at: now), to: current)]
        }
    }

    // MARK: Internals

    private mutating func perform(_ request: Request) -> Effect {
        if case .send = request { pendingSends += 1 } else { pendingQueries += 1 }
        return .perform(request)
    }

    /// Shows `text` in `conversation` as pending, and asks for it to be sent.
    private mutating func send(_ text: String, to conversation: String, now: Date) -> [Effect] {
        let pending = PendingMessage(id: nextPendingID, from: username, text: text, at: now)
        nextPendingID += 1
        pendingLines.append((pending.id, conversation))
        return [append(.pending(pending), to: conversation), perform(.send(to: conversation, text: text))]
    }

    /// Puts `line` where the oldest pending line was (sends are answered in the order typed),
    /// or at the end of `conversation` when that line is gone.
    private mutating func replacePending(with line: PaneLine, conversation: String) -> Effect {
        guard !pendingLines.isEmpty else { return append(line, to: conversation) }
        let oldest = pendingLines.removeFirst()
        if windows.replace(in: oldest.conversation, where: { $0.pendingID == oldest.id }, with: line) {
            return .show(line, conversation: oldest.conversation)
        }
        return append(line, to: conversation)
    }

    private mutating func removeOldestPending() {
        guard !pendingLines.isEmpty else { return }
        let oldest = pendingLines.removeFirst()
        windows.remove(in: oldest.conversation) { $0.pendingID == oldest.id }
    }

    private mutating func switchTo(_ user: String?) {
        guard user != current else { return }
        if let current { windows.leave(current) }
        current = user
        if let user { windows.enter(user) }
        scrollback = 0
    }

    /// A failed send goes to the pane of the conversation it was for, and to the current one if
    /// that is another, so the user sees it where they are and finds it where it belongs.
    private mutating func failed(_ request: Request, message: String, now: Date) -> [Effect] {
        let text: String
        var conversation = current
        switch request {
        case .send(let user, let sent):
            text = "not sent to \(user) (\(Self.excerpt(sent))): \(message)"
            conversation = user
            removeOldestPending()
        case .contacts: text = "could not list contacts: \(message)"
        case .verify(let user, _): text = "could not verify \(user): \(message)"
        case .trust(let user, _): text = "could not trust \(user): \(message)"
        case .room(let request):
            text = "\(request.room): \(message)"
            // In the room's window when it has one: a failure opens no window.
            if windows.contains(request.room) { conversation = request.room }
        case .sendFile(let user, let path): text = "could not send \(path) to \(user): \(message)"
        case .join(let room): text = "cannot join \(room): \(message)"
        case .getFile(let id, _): text = "could not fetch file \(id): \(message)"
        }
        var effects = [append(.error(text, at: now), to: conversation)]
        if conversation != current { effects.append(append(.error(text, at: now), to: current)) }
        return effects
    }

    @discardableResult
    private mutating func append(_ line: PaneLine, to conversation: String?) -> Effect {
        if let conversation {
            windows.append(line, to: conversation)
        } else {
            status.append(line)
            if status.count > Self.lineLimit { status.removeFirst() }
        }
        return .show(line, conversation: conversation)
    }

    static func contactLines(_ contacts: [ChatContact]) -> [String] {
        guard !contacts.isEmpty else { return ["no contacts yet: /msg USER TEXT starts a conversation"] }
        let width = contacts.map(\.username.count).max() ?? 0
        return contacts.sorted { $0.username < $1.username }.map { contact in
            let name = contact.username.padding(toLength: width, withPad: " ", startingAt: 0)
            return "\(name)  \(contact.shortFingerprint)  " + (contact.verified ? "✓ verified" : "unverified")
        }
    }

    private static func excerpt(_ text: String) -> String {
        text.count <= 20 ? "\"\(text)\"" : "\"\(text.prefix(19))…\""
    }

    /// `5s`, `2.5s`; whatever the backend sends, never a trap converting it to an integer.
    static func seconds(_ value: Double) -> String {
        guard value.isFinite, value >= 0, value < 1_000_000 else { return "a while" }
        return value >= 10 || value == value.rounded() ? "\(Int(value.rounded()))s" : "\((value * 10).rounded() / 10)s"
    }
}

extension PaneLine {
    fileprivate var pendingID: Int? {
        if case .pending(let pending) = self { pending.id } else { nil }
    }
}

extension ChatModel.Reply {
    fileprivate var isSendAnswer: Bool {
        switch self {
        case .sent(_), .failed(.send, _): true
        default: false
        }
    }
}
