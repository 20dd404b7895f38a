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
            let client = try options.openClient(command: "cipherchat fingerprint")
            guard let user else {
                printSafely("\(client.username): \(await client.fingerprint.displayString)")
                return
            }
            try await client.startWithDeadline(receiving: false)
            let (number, fingerprint) = try await client.safetyNumber(with: user)
            let pending = try await client.pendingSafetyNumber(with: user)
            await client.stop()
            printSafely("\(user): \(fingerprint.displayString)")
            printSafely("safety number: \(number)")
            if let (pendingNumber, pendingFingerprint) = pending {
                printSafely("\(user) CHANGED identity, not accepted: \(pendingFingerprint.displayString)")
                printSafely("safety number of the new identity: \(pendingNumber)")
                printSafely("check it with \(user), then: cipherchat trust \(user) NUMBER")
            }
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
            let client = try options.openClient(command: "cipherchat verify")
            try await client.startWithDeadline(receiving: false)
            let matched = try await client.verify(user, safetyNumber: safetyNumber.joined())
            await client.stop()
            guard matched else { throw CommandFailure.mismatch("the safety number does not match: \(user) is NOT verified") }
            printSafely("\(user) is verified")
        }
    }
}

struct TrustCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Accept USER's changed identity once you have checked it with them.",
        discussion: """
            CONFIRMATION is the new safety number ('cipherchat fingerprint USER' shows it) or the new \
            fingerprint, spaces allowed: only the identity you checked is accepted, and nothing is \
            if it changed again meanwhile (exit 5). The new identity is pinned unverified; messages \
            held back because of the change are shown.
            """
    )

    @OptionGroup var options: ClientOptions

    @Argument(help: "The user whose new identity to accept.")
    var user: String

    @Argument(parsing: .remaining, help: "The new identity's safety number or fingerprint, as you checked it.")
    var confirmation: [String]

    func run() async throws {
        try await runReportingFailures {
            let client = try options.openClient(command: "cipherchat trust")
            let printer = Task {
                for await event in client.events {
                    if case .message(let record) = event { printSafely(MessageFormat.line(record)) }
                }
            }
            guard !confirmation.isEmpty else {
                throw CommandFailure.usage("give the new safety number or fingerprint you checked: cipherchat trust \(user) NUMBER")
            }
            switch try await client.trust(user, confirming: confirmation.joined()) {
            case .accepted: break
            case .noChange: throw CommandFailure.failure("\(user) has no changed identity to accept")
            case .mismatch:
                throw CommandFailure.mismatch("that is not the safety number or fingerprint of \(user)'s new identity: nothing accepted")
            }
            await client.stop()
            printer.cancel()
            printSafely("accepted \(user)'s new identity (not verified: compare safety numbers)")
        }
    }
}
