import Foundation
import SluiceConfig
import Testing
import Yams
@testable import SluiceProxy

/// docs/admin-openapi.yaml against the running admin listener: every documented operation
/// answers with a documented status and media type, JSON bodies carry their required keys,
/// and the guarded ones refuse without the token.
@Suite struct AdminOpenAPITests {
    static let path = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/admin-openapi.yaml").path

    @Test func everyDocumentedOperationBehavesAsDocumented() async throws {
        let text = try String(contentsOfFile: Self.path, encoding: .utf8)
        let document = try #require(try YAMLParsing.serialized { try Yams.load(yaml: text) } as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        #expect(Set(paths.keys) == [
            "/healthz", "/readyz", "/metrics", "/status", "/stats", "/config", "/clusters", "/slo", "/reload", "/dashboard", "/cache/purge",
            "/clusters/{cluster}/backends/{backend}/drain", "/clusters/{cluster}/backends/{backend}/enable",
        ])
        try await withProxy(configure: { $0.admin.token = "doc-token" }) { proxy, backend in
            for (template, item) in paths.sorted(by: { $0.key < $1.key }) {
                let operations = try #require(item as? [String: Any])
                for (method, value) in operations {
                    let operation = try #require(value as? [String: Any])
                    let responses = try #require(operation["responses"] as? [String: Any])
                    let path = template.replacingOccurrences(of: "{cluster}", with: "main")
                        .replacingOccurrences(of: "{backend}", with: backend.address)
                    let open = (operation["security"] as? [Any])?.isEmpty == true
                    // Open operations are asked without the token: they must not need it.
                    let answer = try await AdminTests.admin(proxy, path, token: open ? nil : "doc-token", method: method.uppercased())
                    let documented = try #require(responses[String(answer.status)] as? [String: Any], "\(method) \(template): \(answer.status)")
                    if let content = documented["content"] as? [String: Any] {
                        let type = try #require(content.keys.first)
                        #expect(answer.headers["content-type"]?.hasPrefix(type) == true, "\(template): \(answer.headers)")
                        let schema = (content[type] as? [String: Any])?["schema"] as? [String: Any]
                        if type == "application/json", let required = schema?["required"] as? [String] {
                            let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
                            for key in required { #expect(object[key] != nil, "\(template) lacks \(key)") }
                        }
                    }
                    if !open {
                        #expect(responses["401"] != nil, "\(template) documents its 401")
                        #expect(try await AdminTests.admin(proxy, path, method: method.uppercased()).status == 401, "\(template) without the token")
                    }
                }
            }
        }
    }
}
