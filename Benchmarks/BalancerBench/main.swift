// sluice-balancer-bench: on-demand measurements of the balancing algorithms, not a test.
//
//   sluice-balancer-bench [pick]     nanoseconds per pick, every algorithm, 3/30/300 backends
//   sluice-balancer-bench simulate   tail latency in a simulated cluster with one slow backend
//
// Build in release: swift run -c release sluice-balancer-bench simulate

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first ?? "pick" {
case "pick":
    runPickBenchmark()
case "simulate":
    runSimulation(arguments: Array(arguments.dropFirst()))
default:
    print("usage: sluice-balancer-bench [pick | simulate [--requests N] [--seed S] [--rate R]...]")
    exit(2)
}
