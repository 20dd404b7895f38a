import Crypto

/// SHA-256 for test code that does not import Crypto itself: the fuzz harness of the sealed
/// container (Fuzz/Sources/FuzzEntryPoints, also compiled into CipherServerTests) recomputes a
/// container's trailing checksum with it.
public enum TestDigest {
    public static func sha256(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(bytes)))
    }
}
