import ArgumentParser

@main
struct CipherChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cipherchat",
        abstract: "A self-hosted, terminal-first end-to-end-encrypted messenger.",
        subcommands: [DemoCommand.self, BenchCommand.self]
    )
}
