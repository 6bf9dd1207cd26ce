import Testing
import Foundation
@testable import SluiceConfig

@Suite struct LoaderTests {
    @Test func emptyDocumentIsAllDefaults() throws {
        #expect(try load("") == SluiceConfig())
        #expect(try load("# only a comment\n") == SluiceConfig())
        #expect(try load("", source: "c.json") == SluiceConfig())
        #expect(try load("{}", source: "c.json") == SluiceConfig())
        let defaults = try load("")
        #expect(defaults.listeners == [ListenerConfig(name: "listener-0", address: "0.0.0.0", port: 8080)])
        #expect(defaults.routes.isEmpty)
    }

    @Test func nullSectionsMeanDefaults() throws {
        #expect(try load("limits:\ntimeouts: ~\nlisteners:\n") == SluiceConfig())
    }

    @Test func environmentSubstitution() throws {
        let yaml = """
        listeners:
          - port: ${PORT}
            address: ${ADDR:-127.0.0.1}
        headers:
          via: ${VIA:-proxy}
          request_id: X-${KIND}-Id
        """
        let config = try load(yaml, environment: ["PORT": "9090", "KIND": "Trace", "VIA": ""])
        #expect(config.listeners[0].port == 9090)
        #expect(config.listeners[0].address == "127.0.0.1")
        // As in the shell, ":-" also replaces a set but empty value.
        #expect(config.headers.via == "proxy")
        #expect(config.headers.requestID == "X-Trace-Id")
        #expect(try load("listeners: [{ port: \"${PORT:-8081}\" }]").listeners[0].port == 8081)
    }

    @Test func doubleDollarIsALiteral() throws {
        #expect(Substitution.apply("a$${B}c", environment: ["B": "x"]) == .success("a${B}c"))
        #expect(Substitution.apply("$5 and $HOME", environment: [:]) == .success("$5 and $HOME"))
        #expect(Substitution.apply("${A}${B:-b}", environment: ["A": "a"]) == .success("ab"))
        #expect(Substitution.apply("${A:-}", environment: [:]) == .success(""))
    }

    @Test func substitutedValuesCannotInjectStructure() throws {
        let config = try load("listeners:\n  - name: ${N}\n", environment: ["N": "x\nlimits:\n  max_connections: 1"])
        #expect(config.listeners[0].name == "x\nlimits:\n  max_connections: 1")
        #expect(config.limits == Limits())
        #expect(issues("headers:\n  via: ${VIA}\n", environment: ["VIA": "a: b"])
            == [#"test.yaml:2: headers.via: invalid Via pseudonym "a: b"; expected a token such as sluice, or "" to disable"#])
    }

    @Test func unknownKeysAreNotSubstituted() {
        #expect(issues("zzz: ${UNSET}\n") == [#"test.yaml:1: zzz: unknown key "zzz""#])
    }

    static let yaml = """
    event_loops: 2
    listeners:
      - { name: main, address: "::", port: 80 }
    clusters:
      - name: web
        balancer: weighted_round_robin
        backends:
          - { address: "[::1]:9001", weight: 2 }
          - 127.0.0.1:9002
        pool: { max_idle: 4, idle_timeout: 1.5s }
    routes:
      - match: { host: API.Example.com, path_prefix: /api, method: PUT }
        cluster: web
        limits: { max_body_bytes: 1k }
        timeouts: { upstream_connect: 250ms }
    limits: { max_connections: 5, max_header_bytes: 2KB, max_header_count: 10, max_uri_bytes: 1KiB, max_body_bytes: 0 }
    timeouts: { client_header: 1s, client_idle: 2m, upstream_connect: 3s, upstream_header: 1h, upstream_idle: 5s, drain: 6s }
    headers: { trusted_proxies: [10.0.0.0/8, "::1"], request_id: X-Id, via: "" }
    access_log: { enabled: off, format: plain }
    """

    static let json = """
    {
      "event_loops": 2,
      "listeners": [{ "name": "main", "address": "::", "port": 80 }],
      "clusters": [{
        "name": "web", "balancer": "weighted_round_robin",
        "backends": [{ "address": "[::1]:9001", "weight": 2 }, "127.0.0.1:9002"],
        "pool": { "max_idle": 4, "idle_timeout": "1.5s" }
      }],
      "routes": [{
        "match": { "host": "API.Example.com", "path_prefix": "/api", "method": "PUT" },
        "cluster": "web",
        "limits": { "max_body_bytes": "1k" },
        "timeouts": { "upstream_connect": "250ms" }
      }],
      "limits": { "max_connections": 5, "max_header_bytes": "2KB", "max_header_count": 10,
                  "max_uri_bytes": "1KiB", "max_body_bytes": 0 },
      "timeouts": { "client_header": "1s", "client_idle": "2m", "upstream_connect": "3s",
                    "upstream_header": "1h", "upstream_idle": "5s", "drain": "6s" },
      "headers": { "trusted_proxies": ["10.0.0.0/8", "::1"], "request_id": "X-Id", "via": "" },
      "access_log": { "enabled": false, "format": "plain" }
    }
    """

    @Test func everyFieldIsRead() throws {
        let config = try load(Self.yaml)
        let expected = SluiceConfig(
            listeners: [ListenerConfig(name: "main", address: "::", port: 80)],
            clusters: [ClusterConfig(
                name: "web", balancer: .weightedRoundRobin,
                backends: [BackendConfig(host: "::1", port: 9001, weight: 2), BackendConfig(host: "127.0.0.1", port: 9002)],
                pool: PoolConfig(maxIdle: 4, idleTimeout: .milliseconds(1500)))],
            routes: [RouteConfig(
                name: "route-0",
                match: RouteMatch(host: "api.example.com", pathPrefix: "/api", method: "PUT"),
                cluster: "web",
                limits: RouteLimits(maxBodyBytes: 1024),
                timeouts: RouteTimeouts(upstreamConnect: .milliseconds(250)))],
            limits: Limits(maxConnections: 5, maxHeaderBytes: 2000, maxHeaderCount: 10, maxURIBytes: 1024, maxBodyBytes: 0),
            timeouts: Timeouts(clientHeader: .seconds(1), clientIdle: .seconds(120), upstreamConnect: .seconds(3),
                               upstreamHeader: .seconds(3600), upstreamIdle: .seconds(5), drain: .seconds(6)),
            headers: HeaderPolicy(trustedProxies: [CIDR("10.0.0.0/8")!, CIDR("::1")!], requestID: "X-Id", via: ""),
            accessLog: AccessLogConfig(enabled: false, format: .plain),
            eventLoops: 2)
        #expect(config == expected)
        #expect(config.clusters[0].backends[0].address == "[::1]:9001")
    }

    @Test func yamlAndJSONGiveEqualConfigs() throws {
        #expect(try load(Self.yaml, source: "a.yaml") == load(Self.json, source: "a.json"))
    }

    @Test func formatDetectionByExtension() {
        #expect(ConfigFormat.detect(source: "x.json", text: "a: 1") == .json)
        #expect(ConfigFormat.detect(source: "X.JSON", text: "") == .json)
        #expect(ConfigFormat.detect(source: "x.yaml", text: "{}") == .yaml)
        #expect(ConfigFormat.detect(source: "x.yml", text: "{}") == .yaml)
    }

    @Test func formatDetectionByContent() throws {
        #expect(ConfigFormat.detect(source: "sluice.conf", text: "  \n {\"a\": 1}") == .json)
        #expect(ConfigFormat.detect(source: "sluice.conf", text: "a: 1") == .yaml)
        #expect(try load(Self.json, source: "sluice.conf") == load(Self.yaml))
        // Content-detected JSON is parsed strictly: a trailing comma is an error, not YAML.
        #expect(issues("{\"event_loops\": 1,}", source: "sluice.conf") == ["sluice.conf:1: (root): invalid JSON: expected a string key"])
    }

    @Test func explicitFormatOverridesDetection() throws {
        let config = try ConfigLoader.parse("event_loops: 3", source: "x.json", format: .yaml, environment: [:])
        #expect(config.eventLoops == 3)
    }

    @Test func jsonStringEscapes() throws {
        let config = try load(#"{"listeners": [{"name": "\u0073l\/\u00e9\ud83d\ude00\n"}]}"#, source: "c.json")
        #expect(config.listeners[0].name == "sl/é😀\n")
        #expect(issues(#"{"event_loops": "\ud83d"}"#, source: "c.json")
            == ["c.json:1: (root): invalid JSON: unpaired UTF-16 surrogate in string"])
        #expect(issues(#"{"headers": {"via": "\x"}}"#, source: "c.json")
            == [#"c.json:1: (root): invalid JSON: invalid escape "\x" in string"#])
    }

    @Test func booleanSpellings() throws {
        for (text, value) in [("true", true), ("yes", true), ("on", true), ("false", false), ("no", false), ("off", false)] {
            #expect(try load("access_log: { enabled: \(text) }").accessLog.enabled == value)
        }
    }

    @Test func hostsAreStoredLowercasedAndMethodsAsGiven() throws {
        let config = try load("clusters: [{name: c}]\nroutes: [{cluster: c, match: {host: \"*.EXAMPLE.com\", method: PATCH}}]")
        #expect(config.routes[0].match == RouteMatch(host: "*.example.com", pathPrefix: "/", method: "PATCH"))
    }

    @Test func quotedNullIsAString() throws {
        #expect(try load("headers: { via: \"null\" }").headers.via == "null")
    }

    @Test func loadsFromFile() throws {
        let path = "/tmp/sluice-config-test-\(getpid()).yml"
        // Block style: in a flow collection ({ } or [ ]) a plain ${P} would need quotes.
        try "listeners:\n  - port: ${P}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try ConfigLoader.load(path: path, environment: ["P": "1234"]).listeners[0].port == 1234)
    }

    @Test func aliasBombIsRejected() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...6 {
            let refs = Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
            yaml += "a\(level): &a\(level) [\(refs)]\n"
        }
        #expect(issues(yaml).first?.hasSuffix("(root): document too large (more than 100000 nodes, aliases expanded)") == true)
    }
}
