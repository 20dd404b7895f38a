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
            let access = try options.access(command: "cipherchat fingerprint")
            if case .own(let client) = access, user != nil { try await client.startWithDeadline(receiving: false) }
            let params: [String: Any] = user.map { ["user": $0] } ?? [:]
            let result = try await access.call("fingerprint", params, timeout: 60) as? [String: Any] ?? [:]
            await access.finish()
            let name = result["username"] as? String ?? "?"
            printSafely("\(name): \(result["fingerprint"] as? String ?? "?")")
            guard let user else { return }
            printSafely("safety number: \(result["safety_number"] as? String ?? "?")")
            if let pending = result["pending"] as? [String: Any] {
                printSafely("\(user) CHANGED identity, not accepted: \(pending["fingerprint"] as? String ?? "?")")
                printSafely("safety number of the new identity: \(pending["safety_number"] as? String ?? "?")")
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
            let access = try options.access(command: "cipherchat verify")
            if case .own(let client) = access { try await client.startWithDeadline(receiving: false) }
            let result = try await access.call("verify", ["user": user, "number": safetyNumber.joined()], timeout: 60) as? [String: Any]
            await access.finish()
            guard result?["verified"] as? Bool == true else { throw CommandFailure.mismatch("the safety number does not match: \(user) is NOT verified") }
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
            guard !confirmation.isEmpty else {
                throw CommandFailure.usage("give the new safety number or fingerprint you checked: cipherchat trust \(user) NUMBER")
            }
            let access = try options.access(command: "cipherchat trust")
            // Messages held back by the change are shown by the owner; when this process owns
            // the home, here.
            let printer = Task {
                guard case .own(let client) = access else { return }
                for await event in client.events {
                    if case .message(let record) = event { printSafely(MessageFormat.line(record)) }
                }
            }
            let result = try await access.call("trust", ["user": user, "confirm": confirmation.joined()], timeout: 60) as? [String: Any]
            switch result?["outcome"] as? String {
            case "accepted": break
            case "no_change": throw CommandFailure.failure("\(user) has no changed identity to accept")
            default:
                throw CommandFailure.mismatch("that is not the safety number or fingerprint of \(user)'s new identity: nothing accepted")
            }
            await access.finish()
            printer.cancel()
            printSafely("accepted \(user)'s new identity (not verified: compare safety numbers)")
        }
    }
}

struct ContactsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contacts",
        abstract: "List your contacts: name, fingerprint, verified, and a changed identity not yet accepted.",
        discussion: "With --json, one object a line: username, fingerprint, verified, identity_changed."
    )

    @OptionGroup var options: ClientOptions

    @Flag(help: "One JSON object a line.")
    var json = false

    func run() async throws {
        try await runReportingFailures {
            let access = try options.access(command: "cipherchat contacts")
            let contacts = try await access.call("contacts", timeout: 60) as? [[String: Any]] ?? []
            await access.finish()
            for contact in contacts {
                if json { print(JSONLine.encode(contact)); continue }
                let name = contact["username"] as? String ?? "?"
                let fingerprint = contact["fingerprint"] as? String ?? "?"
                var marks: [String] = []
                if contact["verified"] as? Bool == true { marks.append("verified") }
                if contact["identity_changed"] as? Bool == true { marks.append("CHANGED identity, not accepted") }
                printSafely("\(name)  \(fingerprint)" + (marks.isEmpty ? "" : "  " + marks.joined(separator: ", ")))
            }
        }
    }
}
