import ArgumentParser
import CipherClient
import CipherCore
import Foundation

struct RoomCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "room",
        abstract: "Create rooms, manage their members, and list them.",
        discussion: """
            A room is named # and then 1 to 32 of a-z, 0-9, _ . - (for example #team). Its creator \
            is its first admin; admins invite, remove and make admins; anyone can leave. Every \
            change is signed and checked by every member. Send to a room with \
            'cipherchat send #room MESSAGE'.
            """,
        subcommands: [
            RoomCreateCommand.self, RoomInviteCommand.self, RoomRemoveCommand.self, RoomLeaveCommand.self,
            RoomAdminCommand.self, RoomMembersCommand.self, RoomListCommand.self,
        ]
    )
}

/// Reaches the home's owner, or owns the home and connects without taking deliveries; runs
/// `body` against the local API's room methods, and prints any warning the client raised
/// meanwhile (a refused membership change, a key not sent) when this process owns the home.
private func withRoomAccess(_ options: ClientOptions, _ body: @escaping @Sendable (HomeAccess) async throws -> Void) async throws {
    try await runReportingFailures {
        let access = try options.access(command: "cipherchat room")
        guard case .own(let client) = access else {
            try await body(access)
            return
        }
        let events = client.events
        let printer = Task {
            for await event in events {
                if case .warning(let text) = event { printError(text) }
            }
        }
        try await client.startWithDeadline(receiving: false)
        do {
            try await withDeadline(seconds: 60) { try await body(access) }
        } catch {
            await client.stop()
            await printer.value
            throw error
        }
        await client.stop()
        await printer.value
    }
}

struct RoomCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create ROOM, with you as its admin.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String

    func run() async throws {
        let room = room
        try await withRoomAccess(options) { access in
            _ = try await access.call("room.create", ["room": room], timeout: 60)
            printSafely("created \(room)")
        }
    }
}

struct RoomInviteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invite", abstract: "Add USER to ROOM (admins only); they read what is said from now on."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String
    @Argument(help: "The user to add.") var user: String

    func run() async throws {
        let (room, user) = (room, user)
        try await withRoomAccess(options) { access in
            _ = try await access.call("room.invite", ["room": room, "user": user], timeout: 60)
            printSafely("added \(user) to \(room)")
        }
    }
}

struct RoomRemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove USER from ROOM (admins only); they read nothing said after."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String
    @Argument(help: "The member to remove.") var user: String

    func run() async throws {
        let (room, user) = (room, user)
        try await withRoomAccess(options) { access in
            _ = try await access.call("room.remove", ["room": room, "user": user], timeout: 60)
            printSafely("removed \(user) from \(room)")
        }
    }
}

struct RoomLeaveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "leave", abstract: "Leave ROOM and forget its keys.")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String

    func run() async throws {
        let room = room
        try await withRoomAccess(options) { access in
            _ = try await access.call("room.leave", ["room": room], timeout: 60)
            printSafely("left \(room)")
        }
    }
}

struct RoomAdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "admin", abstract: "Make USER an admin of ROOM (admins only).")

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String
    @Argument(help: "The member to make an admin.") var user: String

    func run() async throws {
        let (room, user) = (room, user)
        try await withRoomAccess(options) { access in
            _ = try await access.call("room.admin", ["room": room, "user": user], timeout: 60)
            printSafely("\(user) is an admin of \(room)")
        }
    }
}

struct RoomMembersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "members",
        abstract: "List ROOM's members, one a line: the username, then 'admin' for an admin.",
        discussion: "The list is the one this client checked from the room's signed statements, not the relay's word."
    )

    @OptionGroup var options: ClientOptions
    @Argument(help: "The room, as #name.") var room: String

    func run() async throws {
        let room = room
        try await withRoomAccess(options) { access in
            let result = try await access.call("room.members", ["room": room], timeout: 60) as? [String: Any]
            for member in result?["members"] as? [[String: Any]] ?? [] {
                let name = member["username"] as? String ?? "?"
                printSafely(member["admin"] as? Bool == true ? "\(name) admin" : name)
            }
        }
    }
}

struct RoomListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the rooms you are a member of, one a line.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await runReportingFailures {
            let access = try options.access(command: "cipherchat room")
            let rooms = try await access.call("rooms", timeout: 60) as? [String] ?? []
            await access.finish()
            for room in rooms { printSafely(room) }
        }
    }
}
