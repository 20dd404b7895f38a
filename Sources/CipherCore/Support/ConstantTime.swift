/// Compares two byte strings in time that depends only on their lengths, for secrets and
/// authenticators (key-check values, fingerprints a user is asked to confirm).
public func constantTimeEquals(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) {
        difference |= left ^ right
    }
    return difference == 0
}

/// Overwrites a secret's bytes with zeros. Best effort: Swift may have copied the array before,
/// which is why long-lived secrets live in `SymmetricKey`, whose storage is zeroed when freed.
func wipe(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return }
        memset_s_portable(base, buffer.count)
    }
}

@inline(never)
private func memset_s_portable(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
    // A volatile-style loop the optimiser cannot prove dead, since the pointer escapes here.
    let bytes = pointer.assumingMemoryBound(to: UInt8.self)
    for index in 0..<count { bytes[index] = 0 }
    withExtendedLifetime(pointer) {}
}
