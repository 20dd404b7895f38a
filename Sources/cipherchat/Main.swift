import Foundation
import NIOCore
import NIOPosix

/// The process entry. The relay's work is all network I/O: `server` makes SwiftNIO's
/// event loops Swift's global executor before any task runs, so tasks and the channels they
/// serve share threads instead of handing every frame between two thread pools. The other
/// commands keep the default executor: they do long blocking work (key derivation, RSA key
/// generation) that must not hold up an event loop.
@main
enum Main {
    static let commandsOnEventLoops: Set<String> = ["server"]

    static func main() {
        refuseUnknownCommand()
        if let command = CommandLine.arguments.dropFirst().first, commandsOnEventLoops.contains(command) {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        Task {
            await CipherChatCommand.main()
            exit(0)
        }
        dispatchMain()
    }

    /// A first word that is no command ("sned") ends here, with the nearest command named,
    /// rather than with the parser's "unknown option" about whatever came after it.
    private static func refuseUnknownCommand() {
        guard let first = CommandLine.arguments.dropFirst().first, !first.hasPrefix("-") else { return }
        let commands = CipherChatCommand.configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
        guard !commands.contains(first) else { return }
        let hint = Suggestions.closest(to: first, among: commands).map { " (did you mean '\($0)'?)" } ?? "; see 'cipherchat --help'"
        printError("unknown command '\(first)'\(hint)")
        exit(64)
    }
}
