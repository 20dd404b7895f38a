/// Why the harness could not do what a test asked; the text is what the test failure shows.
struct HarnessError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }

    static func commandFailed(_ result: CommandResult) -> HarnessError {
        HarnessError("command failed:\n\(result)")
    }
}
