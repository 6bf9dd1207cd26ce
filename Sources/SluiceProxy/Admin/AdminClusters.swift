import Atomics
import Logging
import NIOCore
import NIOHTTP1
import SluiceConfig

/// `GET /clusters` and `POST /clusters/{cluster}/backends/{backend}/drain|enable`: the shared
/// health state as operators see it, and the one switch they most need during an incident.
enum AdminClusters {
    static func list(_ runtime: ProxyRuntime) -> String {
        let now = NIODeadline.now().uptimeNanoseconds
        let clusters = runtime.health.all.map { cluster in
            let backends = zip(cluster.config.backends, cluster.backends).map { config, backend in
                let ejected = backend.isEjected(now: now)
                let active = backend.activelyHealthy.load(ordering: .relaxed)
                return "{" + [
                    "\"address\":\(AccessLog.quoted(backend.address))",
                    "\"weight\":\(config.weight)",
                    "\"healthy\":\(active && !ejected)",
                    "\"active_check_passing\":\(active)",
                    "\"ejected\":\(ejected)",
                    "\"ejections\":\(backend.ejections.load(ordering: .relaxed))",
                    "\"draining\":\(backend.draining.load(ordering: .relaxed))",
                    "\"in_flight\":\(backend.inFlight.load(ordering: .relaxed))",
                ].joined(separator: ",") + "}"
            }
            return "{\"name\":\(AccessLog.quoted(cluster.name)),\"balancer\":\"\(cluster.config.balancer.rawValue)\","
                + "\"backends\":[\(backends.joined(separator: ","))]}"
        }
        return "{\"clusters\":[\(clusters.joined(separator: ","))]}\n"
    }

    /// `/clusters/{c}/backends/{b}/drain` or `/enable`; nil when the path is not one of these.
    static func action(_ method: HTTPMethod, _ path: String, _ runtime: ProxyRuntime) -> (HTTPResponseStatus, String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "clusters", parts[3] == "backends",
              parts[5] == "drain" || parts[5] == "enable"
        else { return nil }
        guard method == .POST else { return (.methodNotAllowed, "use POST\n") }
        let clusterName = parts[2].removingPercentEncodingIfValid, address = parts[4].removingPercentEncodingIfValid
        guard let cluster = runtime.health.all.first(where: { $0.name == clusterName }) else {
            return (.notFound, "no cluster \(clusterName)\n")
        }
        guard let backend = cluster.backends.first(where: { $0.address == address }) else {
            return (.notFound, "no backend \(address) in cluster \(clusterName)\n")
        }
        let drain = parts[5] == "drain"
        backend.draining.store(drain, ordering: .relaxed)
        runtime.logger.notice(drain ? "backend drained by admin" : "backend enabled by admin",
                              metadata: ["cluster": "\(clusterName)", "backend": "\(address)"])
        return (.ok, "{\"cluster\":\(AccessLog.quoted(clusterName)),\"backend\":\(AccessLog.quoted(address)),\"draining\":\(drain)}\n")
    }
}

extension String {
    /// `%3A` and friends decoded; the text as it is when an escape is malformed.
    var removingPercentEncodingIfValid: String {
        var bytes: [UInt8] = []
        var iterator = utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(RoutingPath.hexValue), let low = iterator.next().flatMap(RoutingPath.hexValue) else { return self }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
