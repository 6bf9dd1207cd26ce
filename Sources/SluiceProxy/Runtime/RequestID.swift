/// Request ids: 128 random bits as 32 lowercase hex digits, like Envoy's x-request-id.
enum RequestID {
    private static let digits = Array("0123456789abcdef".utf8)

    static func generate() -> String {
        var random = SystemRandomNumberGenerator()
        let high = random.next() as UInt64
        let low = random.next() as UInt64
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for i in 0..<16 {
                buffer[i] = digits[Int((high >> UInt64(60 - 4 * i)) & 0xF)]
                buffer[16 + i] = digits[Int((low >> UInt64(60 - 4 * i)) & 0xF)]
            }
            return 32
        }
    }

    /// A client-supplied id is passed on only if it is short printable ASCII, so that it can
    /// be logged and echoed without escaping surprises.
    static func isAcceptable(_ value: String) -> Bool {
        let bytes = value.utf8
        return !bytes.isEmpty && bytes.count <= 128 && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
