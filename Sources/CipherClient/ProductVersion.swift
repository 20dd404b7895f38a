/// The release this build is, shown by `cipherchat --version` and the local API's `version`.
public enum ProductVersion {
    public static let current = "0.9.0"
}
