import Foundation

/// Searches files byte for byte, for text that must not be there.
enum FileScan {
    /// Every regular file under `directory`, at any depth.
    static func files(under directory: URL) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else {
            return []
        }
        return enumerator.compactMap { item in
            guard let url = item as? URL, (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { return nil }
            return url
        }
    }

    /// "FILE contains NEEDLE" for each needle found in each file, in its UTF-8 bytes or as
    /// lowercase hex (how a log would print raw bytes).
    /// A file that vanished since it was listed (a journal, say) is passed over.
    static func findings(of needles: [String], in files: [URL]) -> [String] {
        let forms = needles.flatMap { needle in
            [(needle, Data(needle.utf8)), ("\(needle) as hex", Data(Data(needle.utf8).map { String(format: "%02x", $0) }.joined().utf8))]
        }
        var findings: [String] = []
        for file in files {
            guard let contents = try? Data(contentsOf: file) else { continue }
            for (name, bytes) in forms where contents.range(of: bytes) != nil {
                findings.append("\(file.path) contains \(name)")
            }
        }
        return findings
    }
}
