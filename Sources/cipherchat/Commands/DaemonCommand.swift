import ArgumentParser
import CipherClient
import Foundation

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Own the home in the foreground: keep the relay connection and serve the local API.",
        discussion: """
            Unlocks the store once, keeps one connection to the relay (reconnecting by itself) and \
            serves JSON-RPC 2.0 on HOME/cipherchat.sock (docs/API.md) to processes of the same \
            user. Other commands (send, history) then go through it and need no passphrase. \
            Stops on SIGTERM or SIGINT. Meant for systemd, tmux or a container.
            """
    )

    @OptionGroup var options: ClientOptions

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient(logLevel: .notice, command: "cipherchat daemon")
            let clientEvents = client.events
            let events = LocalAPIEvents()
            let server = try await options.serveLocalAPI(client, events: events, logLevel: .notice)
            let forwarding = Task { for await event in clientEvents { await events.publish(event) } }
            do {
                try await client.start()
            } catch {
                await server.stop()
                throw error
            }
            print("cipherchat daemon: \(client.username), local API on \(server.socketPath)")
            fflush(nil)
            await TerminationSignal.wait()
            await server.stop()
            await client.close()
            await forwarding.value
            await events.finish()
        }
    }
}

/// Waits for SIGTERM or SIGINT, which stop the process gracefully instead of killing it.
enum TerminationSignal {
    static func wait() async {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        for await _ in stream { break }
        for source in sources { source.cancel() }
    }
}
