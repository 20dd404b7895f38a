/// One fuzz target per family of parsers of untrusted bytes. Each feeds its input to the entry
/// points the relay and the client use on bytes from the network or the disk; the only
/// acceptable outcomes are a value or a thrown error, and the checks a target makes on the
/// value (`FuzzOutcome.violations`) must hold. The raw value is the executable's name and the
/// directory of its seed corpus, `Fuzz/Corpus/<name>`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    case frameDecoder = "FuzzFrameDecoder"
    case wireMessages = "FuzzWireMessages"
    case sessionMessages = "FuzzSessionMessages"
    case group = "FuzzGroup"
    case files = "FuzzFiles"
    case sealedContainer = "FuzzSealedContainer"
    case proxyHeader = "FuzzProxyHeader"

    /// Runs one input through the target's entry points.
    public func run(_ input: [UInt8]) -> FuzzOutcome {
        var outcome = FuzzOutcome()
        switch self {
        case .frameDecoder: FrameDecoderEntry.run(input, &outcome)
        case .wireMessages: WireMessagesEntry.run(input, &outcome)
        case .sessionMessages: SessionMessagesEntry.run(input, &outcome)
        case .group: GroupEntry.run(input, &outcome)
        case .files: FilesEntry.run(input, &outcome)
        case .sealedContainer: SealedContainerEntry.run(input, &outcome)
        case .proxyHeader: ProxyHeaderEntry.run(input, &outcome)
        }
        return outcome
    }

    /// The body of `LLVMFuzzerTestOneInput`: a broken check is a crash, for libFuzzer to keep.
    public func fuzz(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
        let input = data.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        let outcome = run(input)
        if let violation = outcome.violations.first {
            fatalError("\(rawValue): \(violation)")
        }
        return 0
    }
}

/// What one input did: whether the first entry point it reached accepted it, whether it went all
/// the way (decrypted, opened, applied), and any check that failed. Refusing is not a failure; a
/// check that fails is.
public struct FuzzOutcome: Sendable {
    /// The entry point named by the input decoded it to a value.
    public var accepted = false
    /// What was decoded was then used successfully: a message decrypted, a session started, a
    /// container opened, a file finished, a statement applied.
    public var completed = false
    public var violations: [String] = []

    mutating func check(_ condition: Bool, _ what: @autoclosure () -> String) {
        if !condition { violations.append(what()) }
    }
}

/// Reads an input as a few control bytes followed by the bytes to parse. Past the end it gives
/// zeros, so every input means something.
struct FuzzInput {
    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() -> Int {
        Int(byte()) << 8 | Int(byte())
    }

    /// Everything not yet read, as a slice that does not start at index 0 (as a frame's bytes
    /// in a larger buffer do not).
    var rest: ArraySlice<UInt8> { bytes[min(position, bytes.count)...] }
}
