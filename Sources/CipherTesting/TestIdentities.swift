import CipherCore
import Foundation

/// The committed RSA test identities (scripts/make-test-identities.sh), loaded once per process:
/// RSA key generation in a debug build takes seconds, and vectors need fixed keys. Each comes
/// with its encryption-key certificate, made once, so its public identity's bytes never change.
public enum TestIdentities {
    public static let names = ["alice", "bob", "carol", "mallory"]

    private static let loaded: [String: PrivateIdentity] = {
        var identities: [String: PrivateIdentity] = [:]
        for name in names {
            identities[name] = try! PrivateIdentity(
                signingKeyPEM: fixture("\(name)-signing.pem"), encryptionKeyPEM: fixture("\(name)-encryption.pem"),
                certificate: Hex.decode(fixture("\(name)-certificate.hex").trimmingCharacters(in: .whitespacesAndNewlines))
            )
        }
        return identities
    }()

    public static var alice: PrivateIdentity { loaded["alice"]! }
    public static var bob: PrivateIdentity { loaded["bob"]! }
    public static var carol: PrivateIdentity { loaded["carol"]! }
    public static var mallory: PrivateIdentity { loaded["mallory"]! }

    public static func fixture(_ name: String) -> String {
        let url = Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil)!
        return try! String(contentsOf: url, encoding: .utf8)
    }
}
