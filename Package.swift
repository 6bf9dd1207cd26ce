// swift-tools-version:6.1
import PackageDescription

// One target per layer (see DESIGN.md): policy targets import no NIO.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "sluice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sluice", targets: ["sluice"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Control: the typed configuration, its loading, validation and the immutable Snapshot.
        .target(
            name: "SluiceConfig",
            dependencies: ["SluiceBalancing", "SluiceLimits", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict
        ),
        // Policy: balancing algorithms, stable hash, health state machines over plain values. No NIO.
        .target(name: "SluiceBalancing", swiftSettings: strict),
        // Policy: rate-limit algorithms, tiers, RateLimit headers and the sharded local store. No NIO.
        .target(name: "SluiceLimits", dependencies: ["SluiceBalancing"], swiftSettings: strict),
        // Policy: availability and latency objectives over rolling windows, error budgets and
        // burn-rate alerts. No NIO.
        .target(name: "SluiceSLO", swiftSettings: strict),
        // Policy: RFC 9111 cache decisions over plain header values (no NIO, no Foundation); the
        // data path does not use it yet.
        .target(name: "SluiceCache", swiftSettings: strict),
        // The cache's disk tier: one file per response under a byte bound (blocking file I/O,
        // run on a thread pool by the proxy; no NIO).
        .target(name: "SluiceCacheDisk", dependencies: ["SluiceCache"], swiftSettings: strict),
        // Data path: a small RESP client (pipelining, pool, scripts) and the rate-limit lease scripts.
        .target(
            name: "SluiceRedis",
            dependencies: [
                "SluiceLimits",
                "SluiceBalancing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        // Control: bearer-token verification for jwt_claim rate-limit keys.
        .target(name: "SluiceJWT", dependencies: [.product(name: "JWTKit", package: "jwt-kit")], swiftSettings: strict),
        // Data path: listeners, HTTP/1.1 codec, forwarding, upstream pools, lifecycle.
        .target(
            name: "SluiceProxy",
            dependencies: [
                "SluiceConfig",
                "SluiceCache",
                "SluiceCacheDisk",
                "SluiceBalancing",
                "SluiceLimits",
                "SluiceRedis",
                "SluiceJWT",
                "SluiceSLO",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            // The dashboard ships inside the binary: no files to install, no path to get wrong.
            resources: [
                .embedInCode("Admin/Dashboard/index.html"),
                .embedInCode("Admin/Dashboard/dashboard.css"),
                .embedInCode("Admin/Dashboard/dashboard.js"),
            ],
            swiftSettings: strict
        ),
        // Command line: run, check, demo.
        .executableTarget(
            name: "sluice",
            dependencies: [
                "SluiceConfig",
                "SluiceProxy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        // On demand, not a test: ns per rate-limit decision and bytes per tracked key (README, "Rate limiting").
        .executableTarget(
            name: "sluice-limit-bench",
            dependencies: ["SluiceLimits", "SluiceBalancing"],
            path: "Benchmarks/LimitBench",
            swiftSettings: strict
        ),
        // On demand, not a test: ns per pick and a slow-backend simulation (README, "Balancing").
        .executableTarget(
            name: "sluice-balancer-bench",
            dependencies: ["SluiceBalancing"],
            path: "Benchmarks/BalancerBench",
            swiftSettings: strict
        ),
        // On demand, not a test: miss ratios of each eviction policy against Belady's optimum on
        // Zipf, scan and loop traces, and their speed (README, "Caching"; docs/caching.md).
        .executableTarget(
            name: "sluice-cache-sim",
            dependencies: ["SluiceCache", "SluiceBalancing"],
            path: "Benchmarks/CacheSim",
            swiftSettings: strict
        ),
        // Test-only: a private redis-server per test (start, kill, restart, pause).
        .target(
            name: "SluiceTestSupport",
            dependencies: [.product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/SluiceTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "SluiceConfigTests", dependencies: ["SluiceConfig", "SluiceLimits"], swiftSettings: strict),
        .testTarget(name: "SluiceBalancingTests", dependencies: ["SluiceBalancing"], swiftSettings: strict),
        .testTarget(name: "SluiceSLOTests", dependencies: ["SluiceSLO"], swiftSettings: strict),
        .testTarget(name: "SluiceCacheDiskTests", dependencies: ["SluiceCacheDisk", "SluiceCache"], swiftSettings: strict),
        .testTarget(name: "SluiceCacheTests", dependencies: ["SluiceCache", "SluiceBalancing"], swiftSettings: strict),
        .testTarget(name: "SluiceLimitsTests", dependencies: ["SluiceLimits", "SluiceBalancing"], swiftSettings: strict),
        .testTarget(
            name: "SluiceRedisTests",
            dependencies: [
                "SluiceRedis",
                "SluiceLimits",
                "SluiceBalancing",
                "SluiceTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SluiceJWTTests",
            dependencies: ["SluiceJWT", .product(name: "JWTKit", package: "jwt-kit")],
            swiftSettings: strict
        ),
        .testTarget(
            name: "SluiceProxyTests",
            dependencies: [
                "SluiceProxy",
                "SluiceConfig",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                "SluiceLimits",
                "SluiceTestSupport",
            ],
            swiftSettings: strict
        ),
    ]
)
