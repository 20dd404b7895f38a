import Foundation
import Testing

@Suite("The command's version")
struct VersionTests {
    @Test("cipherchat --version prints the release and exits 0")
    func version() async throws {
        let directory = try TemporaryDirectory(prefix: "version")
        let result = try await ChildProcess.run(
            CipherBinary.url(), ["--version"], environment: CipherBinary.environment(),
            outputDirectory: directory.url, timeout: .seconds(60)
        ).requireSuccess()
        #expect(result.outputLines == ["0.9.0"], "\(result)")
    }
}
