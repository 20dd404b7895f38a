import CipherClient
import Foundation
import Synchronization
import Testing

@testable import cipherchat

@Suite("Progress of file transfers on a terminal")
struct ProgressDisplayTests {
    @Test("one line: name, percentage, bar, amounts in the total's unit, rate and time left")
    func line() {
        let mebibyte = UInt64(1024 * 1024)
        #expect(ProgressLine.render(name: "report.pdf", done: 12 * mebibyte, total: 32 * mebibyte, bytesPerSecond: 4 * 1024 * 1024)
            == "report.pdf  37% [#######.............] 12.0/32.0 MiB  4.0 MiB/s  0:05 left")
        #expect(ProgressLine.render(name: "a", done: 500, total: 500, bytesPerSecond: nil)
            == "a 100% [####################] 500.0/500.0 B")
        #expect(ProgressLine.render(name: "empty", done: 0, total: 0, bytesPerSecond: nil) == "empty 100% [####################] 0.0/0.0 B")
        #expect(ProgressLine.clock(3725) == "1:02:05")
        #expect(ProgressLine.clock(.infinity) == "--:--")
        let long = String(repeating: "n", count: 40)
        #expect(ProgressLine.render(name: long, done: 0, total: 2048, bytesPerSecond: nil).hasPrefix(String(repeating: "n", count: 31) + "… "))
    }

    @Test("a resumed transfer says where it resumes; redraws in place; the line ends when done")
    func drawing() {
        let written = Mutex<[String]>([])
        let display = ProgressDisplay(name: "big\u{1B}[31m.bin") { text in written.withLock { $0.append(text) } }
        let total: UInt64 = 1000
        display.update(TransferProgress(bytesDone: 370, totalBytes: total, resumedAt: 370))
        // Within a tenth of a second: not drawn again.
        display.update(TransferProgress(bytesDone: 400, totalBytes: total, resumedAt: 370))
        display.update(TransferProgress(bytesDone: 1000, totalBytes: total, resumedAt: 370))
        display.finish()
        let output = written.withLock { $0 }
        #expect(output.count == 3)
        #expect(output[0].hasPrefix("resuming at 37%\n\r"))
        #expect(output[0].contains(" 37% [#######.............]"))
        #expect(output[1].hasPrefix("\r") && output[1].contains("100% [####################]"))
        #expect(output[2] == "\n")
        // A sender's name cannot reach the terminal with its escape sequences.
        #expect(!output.joined().contains("\u{1B}[31m"))
    }
}
