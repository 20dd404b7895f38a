import Foundation
import Testing

@testable import cipherchat

@Suite("Rooms in the chat: commands, panes and membership lines")
struct RoomChatTests {
    @Test("room commands parse, with the room named or taken from the current conversation", arguments: [
        ("/join #team", UserCommand.join("#team")),
        ("/create #team", UserCommand.create("#team")),
        ("/invite bob", UserCommand.invite("bob", room: nil)),
        ("/invite #team bob", UserCommand.invite("bob", room: "#team")),
        ("/remove carol", UserCommand.remove("carol", room: nil)),
        ("/remove #team carol", UserCommand.remove("carol", room: "#team")),
        ("/leave", UserCommand.leave(room: nil)),
        ("/leave #team", UserCommand.leave(room: "#team")),
        ("/members", UserCommand.members(room: nil)),
        ("/MEMBERS #team", UserCommand.members(room: "#team")),
    ])
    func parse(line: String, expected: UserCommand) throws {
        #expect(try CommandParser.parse(line).get() == expected)
    }

    @Test("malformed room commands are usage errors", arguments: [
        "/join team", "/join", "/create", "/create #a #b", "/invite", "/invite #team", "/invite bob carol",
        "/invite #team bob extra", "/leave team", "/members a b",
    ])
    func malformed(line: String) {
        guard case .failure(let error) = CommandParser.parse(line) else {
            Issue.record("\(line) parsed")
            return
        }
        #expect(error.message.hasPrefix("usage: "))
    }

    @Test("/join checks the room, then switches to it and lists its members; a line then goes to the room")
    func joinAndSay() {
        var model = ChatModel.alice(talkingTo: "bob")
        #expect(model.type("/join #team") == [.perform(.join("#team"))])
        #expect(model.current == "bob")
        _ = model.complete(.joined("#team", lines: ["members of #team: alice (admin), bob"]), now: fixedNow)
        #expect(model.current == "#team")
        #expect(model.noticeTexts == ["members of #team: alice (admin), bob"])
        #expect(model.type("hello all").contains(.perform(.send(to: "#team", text: "hello all"))))
    }

    @Test("/join of a room the user is not a member of says so where they are, and opens no window")
    func joinRefused() {
        var model = ChatModel.alice(talkingTo: "bob")
        _ = model.type("/join #nosuchroom")
        _ = model.complete(.failed(.join("#nosuchroom"), message: "you are not a member of #nosuchroom"), now: fixedNow)
        #expect(model.current == "bob")
        #expect(model.windows.names == ["bob"])
        #expect(model.noticeTexts.last == "cannot join #nosuchroom: you are not a member of #nosuchroom")
    }

    @Test("/create switches to the new room; /invite and /remove use the current room")
    func createInviteRemove() {
        var model = ChatModel.alice()
        #expect(model.type("/create #team") == [.perform(.room(.create("#team")))])
        #expect(model.current == "#team")
        #expect(model.type("/invite bob") == [.perform(.room(.invite("bob", room: "#team")))])
        #expect(model.type("/remove #other carol") == [.perform(.room(.remove("carol", room: "#other")))])
        #expect(model.type("/leave") == [.perform(.room(.leave("#team")))])
    }

    @Test("room commands outside a room, without naming one, are error lines")
    func outsideRoom() {
        var model = ChatModel.alice(talkingTo: "bob")
        for line in ["/invite carol", "/remove carol", "/leave", "/members"] {
            #expect(model.type(line).count == 1)
            #expect(model.noticeTexts.last?.hasPrefix("not in a room: ") == true)
        }
        #expect(model.pendingQueries == 0)
    }

    @Test("a room's messages and membership changes go to the room's pane, unread while elsewhere")
    func roomPane() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "carol", to: "#team", "hi room"))
        _ = model.receive(.membership(room: "#team", text: "alice added dave"), now: fixedNow)
        #expect(model.lines(of: "#team").count == 2)
        #expect(model.lines(of: "carol").isEmpty)
        #expect(model.unreadConversations.map(\.name) == ["#team"])
        #expect(model.unreadConversations.map(\.count) == [2])
        _ = model.type("/join #team")
        #expect(model.noticeTexts == ["alice added dave"])
        // The user's own message to the room goes to the room's pane too.
        model.receive(message(from: "alice", to: "#team", "mine"))
        #expect(model.lines(of: "#team").count == 3)
    }

    @Test("a failed room request shows in the room's window when it has one")
    func failedRoomRequest() {
        var model = ChatModel.alice(talkingTo: "bob")
        model.receive(message(from: "carol", to: "#team", "hi"))
        _ = model.type("/invite #team carol")
        _ = model.complete(.failed(.room(.invite("carol", room: "#team")), message: "only an admin of #team can do that"), now: fixedNow)
        #expect(model.lines(of: "#team").count == 2)
        #expect(model.noticeTexts.last == "#team: only an admin of #team can do that")
    }
}
