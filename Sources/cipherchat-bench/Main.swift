import Foundation
import NIOCore
import NIOPosix

/// The process entry. Like `cipherchat server`, the benchmarks make SwiftNIO's event loops
/// Swift's global executor before any task runs, so that the relay in this process and the
/// clients measured here run as the shipped relay does.
@main
enum Main {
    static func main() {
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await BenchCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}
