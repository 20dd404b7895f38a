/// The samples of a Prometheus text exposition by series (`name` or `name{labels}` exactly as
/// written), for tests that check what a scrape says.
public struct PrometheusSamples: Sendable {
    private var values: [String: Double] = [:]

    public init(_ exposition: String) {
        for line in exposition.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            values[String(line[..<space])] = value
        }
    }

    public func value(_ series: String) -> Double? {
        values[series]
    }
}
