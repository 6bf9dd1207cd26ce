@testable import SluiceConfig

/// The issue descriptions loading `text` produces; empty when it loads.
func issues(_ text: String, source: String = "test.yaml", environment: [String: String] = [:]) -> [String] {
    do {
        _ = try ConfigLoader.parse(text, source: source, environment: environment)
        return []
    } catch {
        return error.issues.map(\.description)
    }
}

/// Loads `text` that must be valid; a failure shows the issues in the test output.
func load(_ text: String, source: String = "test.yaml", environment: [String: String] = [:]) throws -> SluiceConfig {
    try ConfigLoader.parse(text, source: source, environment: environment)
}
