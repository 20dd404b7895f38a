import CipherCore
import Foundation

/// The file parsers (PROTOCOL.md 9): a manifest as a payload carries it, an offer as a payload
/// carries it; the sender's file name made into the name it is saved under, which must name one
/// file in the current directory; and encrypted chunks opened against the manifest of
/// PROTOCOL.md 11.6, the stream finished only if it is whole and its hash matches.
///
/// Control bytes: which of the three (modulo 3); for chunks, two bytes giving where the first
/// chunk ends (0: at the size the manifest gives it).
enum FilesEntry {
    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let kind = input.byte() % 3
        switch kind {
        case 0:
            guard let manifest = try? FileManifest(serialized: input.rest) else { return }
            outcome.accepted = true
            check(manifest, &outcome)
        case 1:
            guard let offer = try? FileOffer(serialized: input.rest) else { return }
            outcome.accepted = true
            outcome.check(offer.blobID.count == FileOffer.blobIDSize, "an offer's blob id of \(offer.blobID.count) bytes")
            check(offer.manifest, &outcome)
        default:
            var decryptor = FileDecryptor(manifest: FuzzFixtures.shared.fileManifest)
            let cut = input.uint16()
            let stream = input.rest
            let firstEnd = stream.startIndex + min(cut == 0 ? decryptor.encryptedChunkSize : cut, stream.count)
            var plaintext = 0
            for chunk in [stream[..<firstEnd], stream[firstEnd...]] {
                guard let opened = try? decryptor.open(chunk) else { return }
                plaintext += opened.count
            }
            outcome.accepted = true
            guard (try? decryptor.finish()) != nil else { return }
            outcome.completed = true
            outcome.check(
                UInt64(plaintext) == decryptor.manifest.size,
                "a finished file of \(plaintext) bytes, its manifest says \(decryptor.manifest.size)"
            )
        }
    }

    private static func check(_ manifest: FileManifest, _ outcome: inout FuzzOutcome) {
        outcome.check(manifest.chunkCount >= 1, "a manifest with no chunk")
        outcome.check(manifest.encryptedSize >= manifest.size, "an encrypted size under the plaintext size")
        let saved = ReceivedFileName.safe(manifest.name)
        let scalars = saved.unicodeScalars
        outcome.check(!saved.isEmpty && saved.utf8.count <= ReceivedFileName.maxSize, "a saved name of \(saved.utf8.count) bytes")
        outcome.check(!scalars.contains("/") && !scalars.contains("\\"), "a path separator in the saved name \(saved.debugDescription)")
        outcome.check(scalars.first != ".", "a saved name that starts with a dot: \(saved.debugDescription)")
        outcome.check(
            !scalars.contains { [.control, .format, .lineSeparator, .paragraphSeparator].contains($0.properties.generalCategory) },
            "a control or format character in the saved name \(saved.debugDescription)"
        )
        outcome.check(
            scalars.first?.properties.isWhitespace != true && scalars.last?.properties.isWhitespace != true,
            "a saved name with surrounding white space: \(saved.debugDescription)"
        )
    }
}
