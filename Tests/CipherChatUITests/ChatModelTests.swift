import Foundation
import Testing

@testable import cipherchat

@Suite("The chat model: conversations, unread counts, commands and replies")
struct ChatModelTests {
    @Test("a message in another conversation counts as unread until the user switches to it")
    func unreadCounts() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "hi"))
        model.receive(message(from: "carol", to: "alice", "one"))
        model.receive(message(from: "carol", to: "alice", "two"))
        model.receive(message(from: "dave", to: "alice", "yo"))
        #expect(model.unreadConversations.map(\.name) == ["carol", "dave"])
        #expect(model.unreadConversations.map(\.count) == [2, 1])
        #expect(model.currentLines.count == 1)

        #expect(model.type("/query carol").isEmpty)
        #expect(model.current == "carol")
        #expect(model.unreadConversations.map(\.name) == ["dave"])
        #expect(model.currentLines.count == 2)
    }

    @Test("the user's own messages go to the recipient's pane and are never unread")
    func ownMessages() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "alice", to: "carol", "sent from my other device"))
        #expect(model.unreadConversations.isEmpty)
        #expect(model.lines(of: "carol").count == 1)
        #expect(model.lines(of: "bob").isEmpty)
    }

    @Test("a plain line is sent to the current conversation")
    func sayToCurrent() {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.type("hello").contains(.perform(.send(to: "bob", text: "hello"))))
        #expect(model.pendingSends == 1)
    }

    @Test("a plain line with no conversation is an error line, and nothing is sent")
    func sayWithoutConversation() {
        var model = ChatModel.alice()
        let effects = model.type("hello")
        #expect(effects.count == 1)
        #expect(model.noticeTexts.last == "no conversation: /query USER or /msg USER TEXT first")
        #expect(model.pendingSends == 0)
    }

    @Test("/msg switches to the conversation and sends")
    func msgSwitches() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "carol", to: "alice", "psst"))
        #expect(model.type("/msg carol hi").contains(.perform(.send(to: "carol", text: "hi"))))
        #expect(model.current == "carol")
        #expect(model.unreadConversations.isEmpty)
    }

    @Test("a command typed wrong is an error line in the current pane")
    func commandError() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("/msg bob")
        #expect(model.noticeTexts == ["usage: /msg USER TEXT"])
    }

    @Test("/who asks the backend, and lists contacts aligned, marking the verified")
    func who() {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.type("/who") == [.perform(.contacts)])
        _ = model.complete(
            .contacts([
                ChatContact(username: "carol", shortFingerprint: "0123456789abcdef", verified: false),
                ChatContact(username: "bob", shortFingerprint: "fedcba9876543210", verified: true),
            ]), now: fixedNow)
        #expect(
            model.noticeTexts == [
                "bob    fedcba9876543210  ✓ verified",
                "carol  0123456789abcdef  unverified",
            ])
        #expect(model.verified == ["bob"])
    }

    @Test("a safety number that matches verifies; one that does not says so")
    func verify() {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.type("/verify bob 12345 67890") == [.perform(.verify("bob", safetyNumber: "1234567890"))])
        _ = model.complete(.verification("bob", matched: false), now: fixedNow)
        #expect(!model.verified.contains("bob"))
        #expect(model.noticeTexts.last?.hasPrefix("that is not bob's safety number") == true)
        _ = model.complete(.verification("bob", matched: true), now: fixedNow)
        #expect(model.verified.contains("bob"))
    }

    @Test("trusting a changed identity leaves the contact unverified")
    func trust() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "bob", to: "alice", "hi", verified: true))
        #expect(model.verified.contains("bob"))
        #expect(model.type("/trust bob 12345 67890") == [.perform(.trust("bob", confirmation: "1234567890"))])
        _ = model.complete(.trusted("bob"), now: fixedNow)
        #expect(!model.verified.contains("bob"))
    }

    @Test("/file asks the backend to send, says so at once, and reports the file's name, size and id")
    func sendFile() {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.type("/file carol /tmp/a.bin") == [
            .show(.info("sending /tmp/a.bin to carol…", at: fixedNow), conversation: "bob"),
            .perform(.sendFile(to: "carol", path: "/tmp/a.bin")),
        ])
        let sent = SentFile(name: "a.bin", size: 1234, id: "00ff")
        _ = model.complete(.fileSent(to: "carol", sent), now: fixedNow)
        #expect(model.noticeTexts.last == "sent file a.bin (1234 bytes) to carol id 00ff")
        #expect(model.pendingQueries == 0)
        _ = model.type("/file carol /nope")
        _ = model.complete(.failed(.sendFile(to: "carol", path: "/nope"), message: "cannot read /nope"), now: fixedNow)
        #expect(model.noticeTexts.last == "could not send /nope to carol: cannot read /nope")
    }

    @Test("a failed send shows in its conversation's pane and in the one on screen")
    func failedSend() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("/msg carol are you there?")
        _ = model.type("/query bob")
        let request = ChatModel.Request.send(to: "carol", text: "are you there?")
        let effects = model.complete(.failed(request, message: "relay unreachable"), now: fixedNow)
        #expect(effects.count == 2)
        let text = "not sent to carol (\"are you there?\"): relay unreachable"
        #expect(model.noticeTexts == [text])
        #expect(model.lines(of: "carol") == [.error(text, at: fixedNow)])
        #expect(model.pendingSends == 0)
    }

    @Test("errors from any backend call become error lines", arguments: [
        (ChatModel.Request.contacts, "could not list contacts: boom"),
        (.verify("bob", safetyNumber: "1"), "could not verify bob: boom"),
        (.trust("bob", confirmation: "1"), "could not trust bob: boom"),
    ])
    func failedRequests(request: ChatModel.Request, text: String) {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.complete(.failed(request, message: "boom"), now: fixedNow) == [.show(.error(text, at: fixedNow), conversation: "bob")])
    }

    @Test("quitting waits for pending sends; asked twice, it quits at once")
    func quitWaitsForSends() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("one")
        _ = model.type("two")
        let waiting = model.type("/quit")
        #expect(!waiting.contains(.quit))
        #expect(model.noticeTexts.last == "waiting for the relay to store 2 messages; /quit or ctrl-c again to leave now")
        #expect(!model.complete(.sent(message(from: "alice", to: "bob", "one")), now: fixedNow).contains(.quit))
        #expect(model.complete(.sent(message(from: "alice", to: "bob", "two")), now: fixedNow).last == .quit)

        var impatient = ChatModel.alice(talkingTo: "bob")
        _ = impatient.type("one")
        _ = impatient.type("/quit")
        #expect(impatient.type("/quit") == [.quit])
    }

    @Test("quitting waits for answers to other requests too, so piped commands print them")
    func quitWaitsForQueries() {
        var model = ChatModel.alice()
        _ = model.type("/who")
        #expect(!model.quit(now: fixedNow).contains(.quit))
        #expect(model.noticeTexts.last == "waiting for the client to answer; /quit or ctrl-c again to leave now")
        #expect(model.complete(.contacts([]), now: fixedNow).last == .quit)
    }

    @Test("at the end of piped input the model quits silently once everything is answered")
    func quitWhenAnswered() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("hi")
        #expect(model.quitWhenAnswered().isEmpty)
        #expect(model.noticeTexts.isEmpty)
        #expect(model.complete(.sent(message(from: "alice", to: "bob", "hi")), now: fixedNow).last == .quit)
        var idle = ChatModel.alice()
        #expect(idle.quitWhenAnswered() == [.quit])
    }

    @Test("with nothing pending, /quit quits")
    func quitAtOnce() {
        var model = ChatModel.alice()
        #expect(model.type("/quit") == [.quit])
    }

    @Test("connection changes are noted once, not at every retry")
    func connectionNotices() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.receive(.connection(.disconnected(retryInSeconds: 1)), now: fixedNow)
        _ = model.receive(.connection(.connecting), now: fixedNow)
        _ = model.receive(.connection(.disconnected(retryInSeconds: 2.5)), now: fixedNow)
        _ = model.receive(.connection(.connected), now: fixedNow)
        _ = model.receive(.connection(.connected), now: fixedNow)
        #expect(model.noticeTexts == ["disconnected; retrying in 1s", "connected"])
        #expect(model.connection == .connected)
    }

    @Test("retry delays read naturally, and odd ones cannot crash the interface", arguments: [
        (5.0, "5s"), (2.5, "2.5s"), (0.25, "0.3s"), (42.4, "42s"),
        (Double.infinity, "a while"), (Double.nan, "a while"), (-1, "a while"), (1e300, "a while"),
    ])
    func retryDelay(seconds: Double, text: String) {
        #expect(ChatModel.seconds(seconds) == text)
    }

    @Test("a warning from the backend appears in the pane on screen")
    func warning() {
        var model = ChatModel.alice(talkingTo: "bob")
        let effects = model.receive(.warning("carol's identity changed; refused"), now: fixedNow)
        #expect(effects == [.show(.warning("carol's identity changed; refused", at: fixedNow), conversation: "bob")])
    }

    @Test("a pane keeps its most recent lines only")
    func lineLimit() {
        var model = ChatModel.alice(talkingTo: "bob")
        for number in 0..<(ChatModel.lineLimit + 5) {
            model.receive(message(from: "bob", to: "alice", "\(number)"))
        }
        #expect(model.currentLines.count == ChatModel.lineLimit)
        guard case .message(let first) = model.currentLines.first else { Issue.record("not a message"); return }
        #expect(first.text == "5")
    }

    @Test("/help lists every command")
    func help() {
        var model = ChatModel.alice()
        _ = model.type("/help")
        for command in ["/msg", "/query", "/who", "/verify", "/trust", "/file", "/help", "/quit"] {
            #expect(model.noticeTexts.contains { $0.hasPrefix(command + " ") })
        }
    }

    @Test("switching conversation scrolls back to the newest line")
    func switchResetsScroll() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.scroll(by: 10)
        _ = model.type("/query carol")
        #expect(model.scrollback == 0)
        model.scroll(by: -5)
        #expect(model.scrollback == 0)
    }
}

@Suite("Lines typed before the relay stored them")
struct PendingLineTests {
    @Test("a line typed shows at once as pending, and the message takes its place when the relay stored it")
    func pendingThenSent() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("one")
        _ = model.type("two")
        #expect(model.currentLines.map(\.pendingText) == ["one", "two"])
        let sent = message(from: "alice", to: "bob", "one")
        #expect(model.complete(.sent(sent), now: fixedNow) == [.show(.message(sent), conversation: "bob")])
        #expect(model.currentLines.first == .message(sent))
        #expect(model.currentLines.last?.pendingText == "two")
    }

    @Test("a message of the user's that comes both as the send's answer and as an event shows once, whichever comes first")
    func ownMessageOnce() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("one")
        let one = message(from: "alice", to: "bob", "one", id: "1")
        model.receive(one)
        _ = model.complete(.sent(one), now: fixedNow)
        _ = model.type("two")
        let two = message(from: "alice", to: "bob", "two", id: "2")
        _ = model.complete(.sent(two), now: fixedNow)
        model.receive(two)
        #expect(model.currentLines == [.message(one), .message(two)])
    }

    @Test("a send that failed takes its pending line away; the error says what was not sent")
    func pendingThenFailed() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("lost")
        _ = model.complete(.failed(.send(to: "bob", text: "lost"), message: "no such user"), now: fixedNow)
        #expect(!model.currentLines.contains { $0.pendingText != nil })
        #expect(model.noticeTexts.last == "not sent to bob (\"lost\"): no such user")
    }
}

extension PaneLine {
    fileprivate var pendingText: String? {
        if case .pending(let pending) = self { pending.text } else { nil }
    }
}
