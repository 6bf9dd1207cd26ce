import Testing
@testable import SluiceConfig

/// Each error the loader reports, with its exact text: file, line, key path and message.
@Suite struct ErrorMessageTests {
    @Test func unknownKeyAtRootSuggestsClosest() {
        #expect(issues("listner: []\n") == [#"test.yaml:1: listner: unknown key "listner"; did you mean "listeners"?"#])
    }

    @Test func unknownNestedKeySuggestsClosest() {
        let yaml = """
        listeners:
          - adress: 127.0.0.1
            port: 80
        """
        #expect(issues(yaml) == [#"test.yaml:2: listeners[0].adress: unknown key "adress"; did you mean "address"?"#])
    }

    @Test func unknownKeyWithNothingCloseHasNoSuggestion() {
        #expect(issues("timeouts:\n  zzz: 5s\n") == [#"test.yaml:2: timeouts.zzz: unknown key "zzz""#])
    }

    @Test func unknownKeyDeepInClusters() {
        let yaml = """
        clusters:
          - name: web
            pool:
              max_idel: 4
        """
        #expect(issues(yaml) == [#"test.yaml:4: clusters[0].pool.max_idel: unknown key "max_idel"; did you mean "max_idle"?"#])
    }

    @Test func routeNamingMissingCluster() {
        let yaml = """
        clusters:
          - name: web
          - name: static
        routes:
          - cluster: web
          - cluster: api
        """
        #expect(issues(yaml) == [#"test.yaml:6: routes[1].cluster: cluster "api" is not defined (defined: web, static)"#])
    }

    @Test func routeNamingClusterWhenNoneDefined() {
        #expect(issues("routes:\n  - cluster: api\n")
            == [#"test.yaml:2: routes[0].cluster: cluster "api" is not defined (defined: none)"#])
    }

    @Test func brokenClusterDoesNotCascadeIntoRoutes() {
        let yaml = """
        clusters:
          - balancer: round_robin
        routes:
          - cluster: api
        """
        #expect(issues(yaml) == [#"test.yaml:2: clusters[0]: missing required key "name""#])
    }

    @Test func missingRequiredKeys() {
        let yaml = """
        clusters:
          - name: web
            backends:
              - weight: 2
        routes:
          - name: r
        """
        #expect(issues(yaml) == [
            #"test.yaml:4: clusters[0].backends[0]: missing required key "address""#,
            #"test.yaml:6: routes[0]: missing required key "cluster""#,
        ])
    }

    @Test func badDuration() {
        #expect(issues("timeouts:\n  client_header: 5\n")
            == [#"test.yaml:2: timeouts.client_header: expected a duration such as 5s or 250ms, got "5""#])
        #expect(issues("timeouts:\n  drain: 0s\n") == [#"test.yaml:2: timeouts.drain: must be greater than 0, got "0s""#])
    }

    @Test func badSize() {
        #expect(issues("limits:\n  max_body_bytes: 12XB\n")
            == [#"test.yaml:2: limits.max_body_bytes: expected a byte size such as 16384, 32KiB or 1MiB, got "12XB""#])
        #expect(issues("limits:\n  max_header_bytes: 512\n")
            == [#"test.yaml:2: limits.max_header_bytes: must be at least 1024 bytes, got 512"#])
    }

    @Test func badCIDR() {
        let yaml = """
        headers:
          trusted_proxies:
            - 10.0.0.0/8
            - 10.0.0.0/33
        """
        #expect(issues(yaml) == [#"test.yaml:4: headers.trusted_proxies[1]: invalid CIDR "10.0.0.0/33""#])
    }

    @Test func badPorts() {
        #expect(issues("listeners:\n  - port: 70000\n")
            == ["test.yaml:2: listeners[0].port: must be between 0 and 65535, got 70000"])
        let yaml = """
        clusters:
          - name: web
            backends: ["127.0.0.1:0", "localhost", "::1:80"]
        """
        #expect(issues(yaml) == [
            #"test.yaml:3: clusters[0].backends[0]: port must be between 1 and 65535, got 0 in "127.0.0.1:0""#,
            #"test.yaml:3: clusters[0].backends[1]: expected host:port such as 127.0.0.1:9001 or [::1]:9001, got "localhost""#,
            #"test.yaml:3: clusters[0].backends[2]: expected host:port such as 127.0.0.1:9001 or [::1]:9001, got "::1:80""#,
        ])
    }

    @Test func wrongTypes() {
        let yaml = """
        event_loops: abc
        listeners: 8080
        limits: [1, 2]
        access_log:
          enabled: maybe
          format: [json]
        """
        #expect(issues(yaml) == [
            #"test.yaml:1: event_loops: expected an integer, got "abc""#,
            "test.yaml:2: listeners: expected a list",
            "test.yaml:3: limits: expected a mapping",
            #"test.yaml:5: access_log.enabled: expected a boolean (true or false), got "maybe""#,
            "test.yaml:6: access_log.format: expected one of json, plain, got a list",
        ])
    }

    @Test func rootNotAMapping() {
        #expect(issues("- a\n- b\n") == ["test.yaml:1: (root): expected a mapping"])
    }

    @Test func unknownEnumerationValues() {
        let yaml = """
        clusters:
          - name: web
            balancer: foo
        access_log:
          format: xml
        """
        #expect(issues(yaml) == [
            #"test.yaml:3: clusters[0].balancer: unknown balancer "foo"; expected one of round_robin, weighted_round_robin, random, weighted_random, least_connections, power_of_two, peak_ewma, ip_hash, consistent_hash, rendezvous, maglev"#,
            #"test.yaml:5: access_log.format: unknown format "xml"; expected one of json, plain"#,
        ])
    }

    @Test func duplicateNames() {
        let yaml = """
        clusters:
          - name: web
          - name: web
        routes:
          - { name: r, cluster: web }
          - { name: r, cluster: web }
        listeners:
          - { name: a, port: 80 }
          - { name: a, port: 81 }
        """
        #expect(issues(yaml) == [
            #"test.yaml:3: clusters[1].name: duplicate cluster name "web" (first at clusters[0])"#,
            #"test.yaml:6: routes[1].name: duplicate route name "r" (first at routes[0])"#,
            #"test.yaml:9: listeners[1].name: duplicate listener name "a" (first at listeners[0])"#,
        ])
    }

    @Test func duplicateListenerAddressesExceptPortZero() {
        let yaml = """
        listeners:
          - { port: 8080 }
          - { address: 0.0.0.0, port: 8080 }
          - { address: "::", port: 0 }
          - { address: "::", port: 0 }
        """
        #expect(issues(yaml) == [
            "test.yaml:3: listeners[1].port: duplicate listener address 0.0.0.0:8080 (first at listeners[0])",
        ])
    }

    @Test func unsetEnvironmentVariable() {
        #expect(issues("listeners:\n  - port: ${PORT}\n")
            == [#"test.yaml:2: listeners[0].port: environment variable "PORT" is not set"#])
    }

    @Test func malformedSubstitution() {
        #expect(issues("headers:\n  via: ${VIA\n")
            == [#"test.yaml:2: headers.via: unterminated "${" (write "$${" for a literal "${")"#])
        #expect(issues("headers:\n  via: ${1X}\n")
            == [#"test.yaml:2: headers.via: invalid environment variable name "1X" in "${1X}""#])
    }

    @Test func globalOnlyKeysInARoute() {
        let yaml = """
        clusters: [{ name: web }]
        routes:
          - cluster: web
            limits:
              max_connections: 5
              max_body_bytes: 1MiB
            timeouts:
              client_header: 5s
              drain: 1s
              upstream_conect: 1s
        """
        #expect(issues(yaml) == [
            #"test.yaml:5: routes[0].limits.max_connections: "max_connections" can only be set globally, under limits"#,
            #"test.yaml:8: routes[0].timeouts.client_header: "client_header" can only be set globally, under timeouts"#,
            #"test.yaml:9: routes[0].timeouts.drain: "drain" can only be set globally, under timeouts"#,
            #"test.yaml:10: routes[0].timeouts.upstream_conect: unknown key "upstream_conect"; did you mean "upstream_connect"?"#,
        ])
    }

    @Test func matchValidation() {
        let yaml = """
        clusters: [{ name: web }]
        routes:
          - cluster: web
            match:
              host: a*b.com
              path_prefix: api
              method: get
          - cluster: web
            match: { method: "G T" }
        """
        #expect(issues(yaml) == [
            #"test.yaml:5: routes[0].match.host: invalid host "a*b.com"; expected a host name such as example.com or *.example.com"#,
            #"test.yaml:6: routes[0].match.path_prefix: path_prefix must start with "/", got "api""#,
            #"test.yaml:7: routes[0].match.method: method "get" must be uppercase ("GET"); HTTP methods are case-sensitive"#,
            #"test.yaml:9: routes[1].match.method: invalid method "G T"; expected an HTTP method such as GET"#,
        ])
    }

    @Test func headerValidation() {
        let yaml = """
        headers:
          request_id: "X Request"
          via: "a b"
        """
        #expect(issues(yaml) == [
            #"test.yaml:2: headers.request_id: invalid header name "X Request"; expected a token such as X-Request-Id"#,
            #"test.yaml:3: headers.via: invalid Via pseudonym "a b"; expected a token such as sluice, or "" to disable"#,
        ])
    }

    @Test func rangeChecks() {
        let yaml = """
        limits:
          max_connections: 0
          max_header_count: -1
        clusters:
          - name: web
            backends: [{ address: "127.0.0.1:80", weight: 0 }]
            pool: { max_idle: -1 }
        """
        #expect(issues(yaml) == [
            "test.yaml:2: limits.max_connections: must be at least 1, got 0",
            "test.yaml:3: limits.max_header_count: must be at least 1, got -1",
            "test.yaml:6: clusters[0].backends[0].weight: must be between 1 and 1000000, got 0",
            "test.yaml:7: clusters[0].pool.max_idle: must be at least 0, got -1",
        ])
    }

    @Test func emptyListenerListIsAnError() {
        #expect(issues("listeners: []\n") == ["test.yaml:1: listeners: expected at least one listener"])
    }

    @Test func backendItemOfWrongShape() {
        #expect(issues("clusters:\n  - name: web\n    backends:\n      - [a]\n")
            == [#"test.yaml:4: clusters[0].backends[0]: expected a mapping or a "host:port" string"#])
    }

    @Test func manyIssuesInOnePassInDocumentOrder() {
        let yaml = """
        timeouts:
          client_idle: forever
        listeners:
          - port: x
        limits:
          max_uri_bytes: 1
        """
        #expect(issues(yaml) == [
            #"test.yaml:2: timeouts.client_idle: expected a duration such as 5s or 250ms, got "forever""#,
            #"test.yaml:4: listeners[0].port: expected an integer, got "x""#,
            "test.yaml:6: limits.max_uri_bytes: must be at least 16 bytes, got 1",
        ])
    }
}
