import Foundation
import NIOCore
import NIOPosix

/// The process entry. The relay's work is all network I/O: `server` and `bench` make SwiftNIO's
/// event loops Swift's global executor before any task runs, so tasks and the channels they
/// serve share threads instead of handing every frame between two thread pools. The other
/// commands keep the default executor: they do long blocking work (key derivation, RSA key
/// generation) that must not hold up an event loop.
@main
enum Main {
    static let commandsOnEventLoops: Set<String> = ["server", "bench"]

    static func main() {
        if let command = CommandLine.arguments.dropFirst().first, commandsOnEventLoops.contains(command) {
            _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        Task {
            await CipherChatCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}
