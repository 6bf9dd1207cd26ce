import NIOCore
import NIOHTTP1
import SluiceCache

/// SluiceCache's policy speaks `HeaderFields` (no NIO in it); the data path speaks NIO's.
extension HeaderFields {
    init(_ headers: HTTPHeaders) {
        self.init(headers.map { HeaderField(name: $0.name, value: $0.value) })
    }

    var httpHeaders: HTTPHeaders {
        HTTPHeaders(map { ($0.name, $0.value) })
    }
}
