#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Atomics
import Foundation
import Testing

/// 1 GiB each way through the real `sluice` process with curl at the ends: bodies stream,
/// so the proxy's peak RSS stays flat instead of growing with the body.
@Suite(.serialized) struct StreamingMemoryTests {
    static let gib = 1 << 30
    static let warmUpBytes = 8 << 20
    /// Absolute ceiling for the proxy's peak RSS, and the most it may grow past the warm-up peak.
    static let maxPeakKiB = 128 * 1024
    static let maxGrowthKiB = 48 * 1024

    /// A sparse file of `size` bytes (zeros; no disk blocks), removed by the caller.
    static func sparseFile(size: Int) throws -> String {
        let path = NSTemporaryDirectory() + "sluice-upload-\(UInt64.random(in: 0...UInt64.max)).bin"
        let descriptor = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw SluiceProcess.LaunchError(description: "cannot create \(path)") }
        defer { close(descriptor) }
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            unlink(path)
            throw SluiceProcess.LaunchError(description: "cannot size \(path) to \(size)")
        }
        return path
    }

    struct Transfer {
        var status: Int
        var bytes: Int
        var seconds: Double
        var body: String
    }

    /// `curl -o /dev/null` of `/stream?bytes=N`: status, size_download and time.
    static func download(_ sluice: SluiceProcess, bytes: Int) async throws -> Transfer {
        let output = try await Curl.run([
            "-o", "/dev/null",
            "-w", "%{http_code} %{size_download} %{time_total}",
            "\(sluice.url)/stream?bytes=\(bytes)",
        ], timeoutSeconds: 300)
        #expect(output.status == 0, "curl: \(output.stderr)")
        let fields = output.stdout.split(separator: " ")
        return Transfer(
            status: fields.count > 0 ? Int(fields[0]) ?? 0 : 0,
            bytes: fields.count > 1 ? Int(fields[1]) ?? -1 : -1,
            seconds: fields.count > 2 ? Double(fields[2]) ?? 0 : 0,
            body: ""
        )
    }

    /// `curl -T FILE -X POST /sink` (streamed from the file, no 100-continue): the backend
    /// answers with the byte count it received.
    static func upload(_ sluice: SluiceProcess, file: String) async throws -> Transfer {
        let output = try await Curl.run([
            "-T", file, "-X", "POST", "-H", "Expect:",
            "-w", "\n%{http_code} %{size_upload} %{time_total}",
            "\(sluice.url)/sink",
        ], timeoutSeconds: 300)
        #expect(output.status == 0, "curl: \(output.stderr)")
        let lines = output.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let fields = (lines.last ?? "").split(separator: " ")
        return Transfer(
            status: fields.count > 0 ? Int(fields[0]) ?? 0 : 0,
            bytes: fields.count > 1 ? Int(fields[1]) ?? -1 : -1,
            seconds: fields.count > 2 ? Double(fields[2]) ?? 0 : 0,
            body: lines.dropLast().joined(separator: "\n")
        )
    }

    @Test(.timeLimit(.minutes(10)))
    func gigabyteEachWayKeepsMemoryFlat() async throws {
        let backend = try await TestBackend.start(name: "stream", group: testGroup)
        defer { Task { await backend.stop() } }
        let sluice = try await SluiceProcess.start(configYAML: SluiceProcess.oneBackendConfig(backend: backend, extra: """
            limits:
              max_body_bytes: 0
            access_log:
              enabled: false
            """))
        defer { sluice.terminate() }

        let warmUpFile = try Self.sparseFile(size: Self.warmUpBytes)
        defer { unlink(warmUpFile) }
        let bigFile = try Self.sparseFile(size: Self.gib)
        defer { unlink(bigFile) }

        // Warm-up: allocator arenas, buffers and pools reach their working size.
        let warmDown = try await Self.download(sluice, bytes: Self.warmUpBytes)
        #expect(warmDown.status == 200)
        #expect(warmDown.bytes == Self.warmUpBytes)
        let warmUp = try await Self.upload(sluice, file: warmUpFile)
        #expect(warmUp.status == 200)
        #expect(warmUp.body == "\(Self.warmUpBytes)")
        let warmPeak = try #require(sluice.peakRSSKiB)
        #expect(warmPeak > 1024, "implausible VmHWM \(warmPeak) KiB for pid \(sluice.pid)")

        // VmHWM is what the kernel recorded; sample VmRSS as well, in case a transient peak
        // was released without the kernel updating its high-water mark.
        let sampledMax = ManagedAtomic(0)
        let sampler = Task {
            while !Task.isCancelled {
                if let rss = sluice.currentRSSKiB { sampledMax.max(rss) }
                try? await Task.sleep(nanoseconds: 50_000_000)
            }
        }
        defer { sampler.cancel() }

        let down = try await Self.download(sluice, bytes: Self.gib)
        #expect(down.status == 200)
        #expect(down.bytes == Self.gib)
        let peakAfterDownload = sluice.peakRSSKiB ?? -1

        let up = try await Self.upload(sluice, file: bigFile)
        #expect(up.status == 200)
        #expect(up.bytes == Self.gib)
        #expect(up.body == "\(Self.gib)")

        #expect(sluice.isRunning, "sluice died; stderr: \(sluice.stderrText)")
        // All four transfers went through the proxy to the backend.
        #expect(backend.requestCount == 4)
        sampler.cancel()
        let highWater = try #require(sluice.peakRSSKiB)
        let sampled = sampledMax.load(ordering: .relaxed)
        let peak = max(highWater, sampled)
        let current = sluice.currentRSSKiB ?? -1
        print("sluice peak RSS: \(peak) KiB (after warm-up \(warmPeak) KiB; VmHWM after download \(peakAfterDownload) KiB, at end \(highWater) KiB; max sampled VmRSS \(sampled) KiB; current \(current) KiB)")
        print(String(format: "1 GiB download %.2fs (%.0f MiB/s), 1 GiB upload %.2fs (%.0f MiB/s)",
                     down.seconds, 1024 / max(down.seconds, 0.001), up.seconds, 1024 / max(up.seconds, 0.001)))
        #expect(peak < Self.maxPeakKiB, "peak RSS \(peak) KiB is over \(Self.maxPeakKiB) KiB")
        #expect(peak - warmPeak < Self.maxGrowthKiB, "peak RSS grew \(peak - warmPeak) KiB over the warm-up peak \(warmPeak) KiB")

        sluice.signal(SIGTERM)
        #expect(await sluice.exit(within: 10) == 0, "stderr: \(sluice.stderrText)")
    }
}

private extension ManagedAtomic<Int> {
    func max(_ value: Int) {
        var current = load(ordering: .relaxed)
        while value > current {
            let (exchanged, original) = compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
