import Foundation

/// Every figure of one `cipherchat-bench` run. Field names carry their units; a section left
/// out with `--only` is absent.
struct BenchReport: Codable, Sendable {
    var machine: MachineInfo
    var profile: String
    /// Whether the bench could set glibc's malloc thresholds (see `MallocThresholds`).
    var mallocThresholdsControlled: Bool
    var aesGCMSeal: [BulkSealFigure]?
    var keyGeneration: KeyGenerationFigures?
    var primitives: [PrimitiveFigure]?
    var handshake: HandshakeFigures?
    var ratchet: RatchetFigures?
    var fileStream: [FileStreamFigures]?

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human-readable report: one aligned line per figure, units on every line.
    var text: String {
        var out = TextTable()
        out.heading("cipherchat-bench (\(profile) profile, \(machine.buildConfiguration) build)")
        if machine.buildConfiguration != "release" {
            out.note("warning: not a release build; these figures say nothing about production speed")
        }
        out.row("CPU", "\(machine.cpuModel), \(machine.logicalCores) logical cores")
        out.row("features", machine.cpuFeatures.joined(separator: " "))
        out.row("kernel", machine.kernel)
        out.row("swift", machine.swiftVersion ?? "not given (pass --swift-version)")
        out.note("medians over repeated runs; MB = 10^6 bytes, as openssl speed counts")
        if !mallocThresholdsControlled {
            out.note("glibc's mallopt was not found: both malloc settings measure the platform allocator")
        }
        if let aesGCMSeal {
            out.heading("AES-256-GCM seal (swift-crypto AES.GCM.seal, random nonce per call)")
            for (index, figure) in aesGCMSeal.enumerated() {
                if index == 0 || aesGCMSeal[index - 1].malloc != figure.malloc {
                    out.note(" malloc: \(figure.malloc.summary)")
                }
                out.row(
                    figure.label, Self.format(figure.megabytesPerSecond, "MB/s", decimals: 0),
                    "\(Self.format(figure.medianMicrosecondsPerCall, "µs", decimals: 2)) per call, n=\(figure.samples)"
                )
            }
        }
        if let keyGeneration {
            out.heading("RSA-2048 key generation")
            out.row(
                "PrivateIdentity.generate()", Self.format(keyGeneration.identityMedianMilliseconds, "ms", decimals: 1),
                "two keys and a signature, n=\(keyGeneration.identitySamples)"
            )
            out.row(
                "_RSA.Signing.PrivateKey(.bits2048)", Self.format(keyGeneration.rsaKeyMedianMilliseconds, "ms", decimals: 1),
                "n=\(keyGeneration.rsaKeySamples)"
            )
        }
        if let primitives {
            out.heading("Primitives the handshake and ratchet are made of")
            for figure in primitives {
                out.row(figure.name, Self.format(figure.medianMicroseconds, "µs", decimals: 2), "n=\(figure.samples)")
            }
        }
        if let handshake {
            out.heading("Full handshake (RSA-2048 identities, X-Wing prekey, one-time prekey, 200 B first text)")
            out.row("initiator: initiate + encrypt", Self.format(handshake.initiatorMedianMilliseconds, "ms", decimals: 3))
            out.row("responder: parse + accept", Self.format(handshake.responderMedianMilliseconds, "ms", decimals: 3))
            out.row(
                "initiator + responder", Self.format(handshake.totalMedianMilliseconds, "ms", decimals: 3),
                "p90 \(Self.format(handshake.totalP90Milliseconds, "ms", decimals: 3)), n=\(handshake.samples)"
            )
            out.row(
                "bundle check (not in total)", Self.format(handshake.bundleCheckMedianMilliseconds, "ms", decimals: 3),
                "first envelope \(handshake.prekeyEnvelopeBytes) B"
            )
        }
        if let ratchet {
            out.heading("Ratchet message (\(ratchet.payloadBytes) B text, \(ratchet.envelopeBytes) B envelope)")
            out.row("one way: encrypt", Self.format(ratchet.oneWayEncryptMedianMicroseconds, "µs", decimals: 2))
            out.row("one way: decrypt", Self.format(ratchet.oneWayDecryptMedianMicroseconds, "µs", decimals: 2))
            out.row(
                "one way: encrypt + decrypt", Self.format(ratchet.oneWayMedianMicroseconds, "µs", decimals: 2),
                "\(ratchet.messagesPerSample) messages per sample, n=\(ratchet.samples)"
            )
            out.row("ping-pong: encrypt + decrypt", Self.format(ratchet.pingPongMedianMicroseconds, "µs", decimals: 2), "DH ratchet step every message")
        }
        if let fileStream, let first = fileStream.first {
            out.heading("File STREAM (\(first.fileBytes >> 20) MiB in \(first.pieceBytes >> 10) KiB pieces, \(first.chunkBytes >> 10) KiB chunks)")
            for figure in fileStream {
                out.note(" malloc: \(figure.malloc.summary)")
                out.row("FileEncryptor append + finish", Self.format(figure.encryptMegabytesPerSecond, "MB/s", decimals: 0), "n=\(figure.samples)")
                out.row("FileDecryptor open + finish", Self.format(figure.decryptMegabytesPerSecond, "MB/s", decimals: 0))
            }
        }
        return out.text
    }

    private static func format(_ value: Double, _ unit: String, decimals: Int) -> String {
        String(format: "%.\(decimals)f", value) + " " + unit
    }
}

/// Lines of `label  value  detail`, the values right-aligned in one column.
private struct TextTable {
    private var lines: [String] = []

    mutating func heading(_ text: String) {
        if !lines.isEmpty { lines.append("") }
        lines.append(text)
    }

    mutating func note(_ text: String) { lines.append(text) }

    mutating func row(_ label: String, _ value: String, _ detail: String = "") {
        let paddedLabel = label.padding(toLength: max(label.count, 44), withPad: " ", startingAt: 0)
        let paddedValue = String(repeating: " ", count: max(0, 14 - value.count)) + value
        lines.append("  \(paddedLabel)\(paddedValue)\(detail.isEmpty ? "" : "   " + detail)")
    }

    var text: String { lines.joined(separator: "\n") }
}
