import CipherCore
import Crypto
import _CryptoExtras

/// RSA-2048 key generation: the cost of making an identity, which happens once per user.
struct KeyGenerationFigures: Codable, Sendable {
    /// `PrivateIdentity.generate()`: two RSA-2048 keys and one PSS signature.
    var identityMedianMilliseconds: Double
    var identitySamples: Int
    /// `_RSA.Signing.PrivateKey(keySize: .bits2048)` alone.
    var rsaKeyMedianMilliseconds: Double
    var rsaKeySamples: Int
}

enum KeyGenerationBench {
    static func run(identityLimits: RunLimits, keyLimits: RunLimits) throws -> KeyGenerationFigures {
        var identities = SampleSet()
        try identityLimits.run {
            let (identity, elapsed) = try timeOnce { try PrivateIdentity.generate() }
            blackHole(identity)
            identities.append(elapsed)
        }
        var keys = SampleSet()
        try keyLimits.run {
            let (key, elapsed) = try timeOnce { try _RSA.Signing.PrivateKey(keySize: .bits2048) }
            blackHole(key)
            keys.append(elapsed)
        }
        return KeyGenerationFigures(
            identityMedianMilliseconds: identities.median * 1e3, identitySamples: identities.count,
            rsaKeyMedianMilliseconds: keys.median * 1e3, rsaKeySamples: keys.count
        )
    }
}
