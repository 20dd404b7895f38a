import CipherCore
import CipherTesting

/// The sealed-container reader (PROTOCOL.md 4.3), which opens the client's store key from disk.
/// A container ends in the SHA-256 of everything before it, which a fuzzer would almost never
/// get right: so the input is either the whole container, or (control byte odd) everything but
/// the checksum, which is appended here, so that the input reaches the header's parsing and the
/// opening. A container whose KDF is the cheapest one accepted (scrypt with N = 2^10, r = 1,
/// p = 1) is opened with the passphrase and context the corpus was sealed under; costlier
/// ones would only make each run slow.
enum SealedContainerEntry {
    static func run(_ bytes: [UInt8], _ outcome: inout FuzzOutcome) {
        var input = FuzzInput(bytes)
        let appendChecksum = input.byte() & 1 == 1
        var container = Array(input.rest)
        if appendChecksum { container += TestDigest.sha256(container) }
        guard let kdf = try? SealedContainer.kdfParameters(of: container) else { return }
        outcome.accepted = true
        guard kdf == .scrypt(logN: 10, r: 1, p: 1) else { return }
        let opened = try? SealedContainer.open(container, passphrase: FuzzFixtures.sealingPassphrase, context: FuzzFixtures.sealingContext)
        outcome.completed = opened != nil
    }
}
