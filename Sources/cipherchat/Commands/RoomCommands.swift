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

/// Opens the client, connects without taking deliveries, runs `body`, and prints any warning
/// the client raised meanwhile (a refused membership change, a key not sent).
private func withRoomClient(_ options: ClientOptions, _ body: @escaping @Sendable (ChatClient) async throws -> Void) async throws {
    try await runReportingFailures {
        let client = try options.openClient(command: "cipherchat room")
        let events = client.events
        let printer = Task {
            for await event in events {
                if case .warning(let text) = event { printError(text) }
            }
        }
        try await client.startWithDeadline(receiving: false)
        do {
            try await withDeadline(seconds: 60) { try await body(client) }
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
        try await withRoomClient(options) { client in
            try await client.createRoom(room)
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
        try await withRoomClient(options) { client in
            try await client.invite(user, to: room)
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
        try await withRoomClient(options) { client in
            try await client.remove(user, from: room)
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
        try await withRoomClient(options) { client in
            try await client.leave(room)
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
        try await withRoomClient(options) { client in
            try await client.grantAdmin(user, in: room)
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
        try await withRoomClient(options) { client in
            for member in try await client.members(of: room).members {
                printSafely(member.isAdmin ? "\(member.username) admin" : member.username)
            }
        }
    }
}

struct RoomListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the rooms you are a member of, one a line.")

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient(command: "cipherchat room")
            for room in try await client.rooms() { printSafely(room) }
        }
    }
}
