/// The release this build is, shown by `cipherchat --version`, the local API's `version`, the
/// relay's start line and its `cipherchat_build_info` metric.
public enum ProductVersion {
    public static let current = "0.9.0"
}
