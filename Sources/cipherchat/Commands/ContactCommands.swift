import ArgumentParser
import CipherClient
import Foundation

struct FingerprintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fingerprint",
        abstract: "Show your fingerprint, or USER's fingerprint and your safety number with them.",
        discussion: "Compare the safety number with USER in person or over another trusted channel, then run 'cipherchat verify'."
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "Another user.")
    var user: String?

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient()
            guard let user else {
                print("\(client.username): \(await client.fingerprint.displayString)")
                return
            }
            try await client.start(receiving: false)
            let (number, fingerprint) = try await client.safetyNumber(with: user)
            await client.stop()
            print("\(user): \(fingerprint.displayString)")
            print("safety number: \(number)")
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Mark USER verified when SAFETY_NUMBER matches (exit 0), else exit 5.",
        discussion: "The 60 digits may be given with or without spaces."
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The user to verify.")
    var user: String

    @Argument(parsing: .remaining, help: "The safety number USER read to you.")
    var safetyNumber: [String]

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient()
            try await client.start(receiving: false)
            let matched = try await client.verify(user, safetyNumber: safetyNumber.joined())
            await client.stop()
            guard matched else { throw CommandFailure.mismatch("the safety number does not match: \(user) is NOT verified") }
            print("\(user) is verified")
        }
    }
}

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Accept USER's changed identity (after checking it with them).",
        discussion: "The new identity is pinned unverified; messages held back because of the change are shown."
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The user whose new identity to accept.")
    var user: String

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient()
            let printer = Task {
                for await event in client.events {
                    if case .message(let record) = event { print(MessageFormat.line(record)) }
                }
            }
            guard try await client.trust(user) else {
                throw CommandFailure.failure("\(user) has no changed identity to accept")
            }
            await client.stop()
            printer.cancel()
            print("accepted \(user)'s new identity (not verified: compare safety numbers)")
        }
    }
}
