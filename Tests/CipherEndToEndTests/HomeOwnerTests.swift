import CipherTesting
import Foundation
import Testing

/// One owner per home, as a user meets it: `cipherchat daemon` owns alice's home, and plain
/// commands in other processes go through its local API instead of opening the store.
@Suite("One owner per home", .timeLimit(.minutes(15)))
struct HomeOwnerTests {
    @Test("concurrent sends from other processes go through the daemon: each arrives once; the daemon stops on SIGTERM")
    func sendsThroughDaemon() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let daemon = try await alice.startDaemon()

        // A wrong passphrase cannot open the store: these succeed only through the owner.
        let texts = (1...8).map { "concurrent \($0)" }
        let results = try await withThrowingTaskGroup(of: CommandResult.self) { group in
            for text in texts { group.addTask { try await alice.run("send", ["bob", text], passphrase: "wrong passphrase") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for result in results { #expect(result.status == 0, "\(result)") }
        let piped = try await alice.run("history", ["bob", "--json"], passphrase: "wrong passphrase").requireSuccess()
        let history = try piped.outputLines.map { try ReceivedMessage(jsonLine: $0).text }
        #expect(history.sorted() == texts.sorted(), "\(piped)")

        let received = try await bob.receive()
        #expect(received.map(\.text).sorted() == texts.sorted(), "bob got \(received.map(\.text))")

        // Checking a safety number in another terminal goes through the owner too.
        let shown = try await alice.run("fingerprint", ["bob"], passphrase: "wrong passphrase").requireSuccess()
        let number = try #require(shown.outputLines.first { $0.hasPrefix("safety number: ") }?.dropFirst("safety number: ".count))
        try await alice.run("verify", ["bob", String(number)], passphrase: "wrong passphrase").requireSuccess()
        let contacts = try await alice.run("contacts", ["--json"], passphrase: "wrong passphrase").requireSuccess()
        #expect(contacts.outputLines.count == 1 && contacts.standardOutput.contains("\"verified\":true"), "\(contacts)")

        // The room commands too.
        try await alice.run("room create", ["#team"], passphrase: "wrong passphrase").requireSuccess()
        try await alice.run("room invite", ["#team", "bob"], passphrase: "wrong passphrase").requireSuccess()
        let members = try await alice.run("room members", ["#team"], passphrase: "wrong passphrase").requireSuccess()
        #expect(members.outputLines == ["alice admin", "bob"], "\(members)")
        #expect(try await alice.run("room list", [], passphrase: "wrong passphrase").requireSuccess().outputLines == ["#team"])

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(60)) == 0, "\(daemon.readStandardError())")
        #expect(!FileManager.default.fileExists(atPath: alice.home.appending(path: "cipherchat.sock").path))
        // The home is free again: a plain command owns it for its own run.
        try await alice.send("after the daemon", to: "bob")
        #expect(try await bob.receive().filter { $0.kind == "text" }.map(\.text) == ["after the daemon"])
    }

    @Test("recv --follow owns the home and serves it; an owner that does not answer is named, and the command exits 1")
    func unresponsiveOwner() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let follower = try alice.launch(["recv"], ["--follow"])
        defer { follower.signal(SIGKILL) }
        let socket = alice.home.appending(path: "cipherchat.sock").path
        for _ in 0..<1200 where !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await alice.run("send", ["bob", "through recv"], passphrase: "wrong passphrase").requireSuccess()
        #expect(try await bob.receive().map(\.text) == ["through recv"])

        // Stopped, the owner still holds the home and its socket accepts, but nothing answers.
        follower.signal(SIGSTOP)
        let refused = try await alice.run("send", ["bob", "blocked", "--timeout", "2"], passphrase: "wrong passphrase")
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.standardError.contains("in use by process \(follower.processIdentifier) (cipherchat recv)"), "\(refused)")
        follower.signal(SIGCONT)
        follower.signal(SIGTERM)
        _ = await follower.waitForExit(timeout: .seconds(30))
    }

    @Test("the echo bot of examples/ answers every message through a daemon's local API")
    func echoBot() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let daemon = try await bob.startDaemon()
        let script = CipherBinary.packageRoot.appending(path: "examples/echo-bot.py").path
        let bot = try ChildProcess(
            executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: ["python3", script, bob.home.appending(path: "cipherchat.sock").path],
            environment: ProcessInfo.processInfo.environment,
            standardOutput: bob.files.appending(path: "bot.out"), standardError: bob.files.appending(path: "bot.err")
        )
        // Messages the owner receives before the bot subscribed are not pushed to it.
        let deadline = Patience.deadline(.seconds(60))
        while !bot.readStandardOutput().contains("subscribed"), bot.exitStatus == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try #require(bot.readStandardOutput().contains("subscribed"), "bot: \(bot.readStandardError())")
        try await alice.send("ping", to: "bob")
        try await alice.send("second ping", to: "bob")
        var answers: [String] = []
        for _ in 0..<120 where answers.count < 2 {
            answers += try await alice.receive().map(\.text)
            if answers.count < 2 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(answers == ["echo: ping", "echo: second ping"], "bot: \(bot.readStandardError())")
        bot.signal(SIGTERM)
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: .seconds(60)) == 0)
        _ = await bot.waitForExit(timeout: .seconds(10))
    }
}

extension HomeOwnerTests {
    @Test("the daemon killed with SIGKILL in the middle of a burst: after a restart nothing confirmed is lost, nothing doubles, no key is reused")
    func killedMidBurst() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let first = try await alice.startDaemon()
        let texts = (1...24).map { "burst \($0)" }
        let results = try await withThrowingTaskGroup(of: (String, Int32).self) { group in
            for (index, text) in texts.enumerated() {
                group.addTask {
                    try await Task.sleep(for: .milliseconds(25 * index))
                    return (text, try await alice.run("send", ["bob", text], passphrase: "wrong passphrase").status)
                }
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(250))
                first.signal(SIGKILL)
                return ("", 0)
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        _ = await first.waitForExit(timeout: .seconds(30))
        let confirmed = texts.filter { results[$0] == 0 }

        // The restarted owner resends its outbox; then one more message on the same sessions.
        let second = try await alice.startDaemon()
        try await alice.run("send", ["bob", "after the restart"], passphrase: "wrong passphrase").requireSuccess()
        second.signal(SIGTERM)
        #expect(await second.waitForExit(timeout: .seconds(60)) == 0)

        let result = try await bob.run("recv", ["--json"]).requireSuccess()
        let received = try result.outputLines.map { try ReceivedMessage(jsonLine: $0).text }
        #expect(Set(received).count == received.count, "a message arrived twice: \(received)")
        #expect(Set(confirmed).isSubset(of: Set(received)), "confirmed \(confirmed), received \(received)")
        #expect(received.contains("after the restart"))
        #expect(Set(received).isSubset(of: Set(texts + ["after the restart"])))
        // A reused key would make bob refuse a message as undecryptable (or a repeat).
        #expect(!result.standardError.contains("could not be decrypted"), "\(result)")
    }

    @Test("file send, list and get go through the daemons that own the homes; paths are the caller's, relative ones included")
    func filesThroughDaemons() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let aliceDaemon = try await alice.startDaemon()
        defer { aliceDaemon.signal(SIGKILL) }
        let bobDaemon = try await bob.startDaemon()
        defer { bobDaemon.signal(SIGKILL) }
        try FileManager.default.createDirectory(at: alice.files, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bob.files, withIntermediateDirectories: true)
        let report = alice.files.appending(path: "report.bin")
        try TestFiles.make(at: report, size: 700_000)

        // A relative path, from alice's folder: the daemon reads the file the user meant.
        let sending = try alice.openShell(["file", "send", "bob", "report.bin"], in: alice.files)
        defer { sending.kill() }
        let sent = try await sending.waitFor(text: "EXIT=", timeout: .seconds(120))
        #expect(sent.contains("EXIT=0"), "\(sent)")
        #expect(sent.contains { $0.hasPrefix("sent report.bin (700000 bytes) to bob id ") }, "\(sent)")

        // Bob's daemon took the offer; his file list goes through it.
        var listed: [ListedFile] = []
        let deadline = Patience.deadline(.seconds(60))
        while listed.isEmpty, ContinuousClock.now < deadline {
            listed = try await bob.listFiles()
            if listed.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        let file = try #require(listed.first)
        #expect(file.name == "report.bin")

        // Without --out, the file lands in the folder bob ran the command in, not the daemon's.
        let getting = try bob.openShell(["file", "get", String(file.id.prefix(8))], in: bob.files)
        defer { getting.kill() }
        let got = try await getting.waitFor(text: "EXIT=", timeout: .seconds(120))
        #expect(got.contains("EXIT=0"), "\(got)")
        let saved = bob.files.appending(path: "report.bin")
        #expect(try TestFiles.sha256(of: saved) == TestFiles.sha256(of: report))
        #expect(aliceDaemon.exitStatus == nil && bobDaemon.exitStatus == nil)
    }

    @Test("recv with a daemon running prints what the daemon received since the last recv, once; waits when asked; after a recv run alone, prints nothing twice")
    func recvThroughDaemon() async throws {
        let relay = try await RelayProcess()
        let (alice, bob) = try await UserHome.pair("alice", "bob", on: relay)
        let daemon = try await bob.startDaemon()
        defer { daemon.signal(SIGKILL) }
        try await alice.send("one", to: "bob")
        try await alice.send("two", to: "bob")
        // The daemon takes both (its history, through it, shows them); recv then prints them.
        let deadline = Patience.deadline(.seconds(60))
        while try await bob.run("history", ["alice", "--json"]).requireSuccess().outputLines.count < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try await bob.receive().map(\.text) == ["one", "two"])
        #expect(try await bob.receive().isEmpty, "a second recv prints nothing again")

        // --wait: nothing yet, so it waits for the next message and prints it.
        let waiting = try bob.launch(["recv", "--json", "--wait", "120"])
        defer { waiting.signal(SIGKILL) }
        try await Task.sleep(for: .milliseconds(300))
        try await alice.send("three", to: "bob")
        let status = await waiting.waitForExit(timeout: Patience.scaled(.seconds(120)))
        #expect(status == 0, "\(waiting.readStandardError())")
        let printed = try waiting.readStandardOutput().split(separator: "\n").map { try ReceivedMessage(jsonLine: String($0)).text }
        #expect(printed == ["three"])

        // recv run alone, the daemon stopped, then one through a new daemon: nothing twice.
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit(timeout: Patience.scaled(.seconds(60))) == 0)
        try await alice.send("four", to: "bob")
        #expect(try await bob.receive().map(\.text) == ["four"])
        let second = try await bob.startDaemon()
        defer { second.signal(SIGKILL) }
        #expect(try await bob.receive().isEmpty)
    }
}
