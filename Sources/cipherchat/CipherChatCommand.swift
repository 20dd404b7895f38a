import ArgumentParser
import CipherClient
import CipherCore

struct CipherChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cipherchat",
        abstract: "A self-hosted, terminal-first end-to-end-encrypted messenger.",
        version: ProductVersion.current,
        subcommands: [
            ServerCommand.self, InitCommand.self, WhoamiCommand.self, FingerprintCommand.self, VerifyCommand.self,
            TrustCommand.self, ContactsCommand.self, SendCommand.self, HistoryCommand.self, DaemonCommand.self, RoomCommand.self, RecvCommand.self, FileCommand.self, ChatCommand.self, DemoCommand.self,
        ]
    )
}
