import Foundation

/// One line of `cipherchat recv --json` in a room: a message or a membership change.
struct RoomLine: Decodable, Sendable {
    let id: String
    let kind: String
    let from: String
    let text: String
    let room: String?
    let action: String?
    let member: String?

    init(jsonLine: String) throws {
        do {
            self = try JSONDecoder().decode(RoomLine.self, from: Data(jsonLine.utf8))
        } catch {
            throw HarnessError("recv --json printed a line that is not a message (\(error)): \(jsonLine)")
        }
    }
}

extension UserHome {
    /// `cipherchat room SUBCOMMAND ARGUMENTS...`, the first of `arguments` naming the subcommand.
    func room(_ arguments: [String]) async throws -> CommandResult {
        try await run("room \(arguments[0])", Array(arguments.dropFirst()))
    }

    /// `cipherchat recv --json`, room messages and membership changes included, and what it
    /// printed on standard error (warnings).
    func receiveLines() async throws -> (lines: [RoomLine], warnings: String) {
        let result = try await run("recv", ["--json"]).requireSuccess()
        return (try result.outputLines.map { try RoomLine(jsonLine: $0) }, result.standardError)
    }
}
