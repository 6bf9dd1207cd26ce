/// Request ids: 128 random bits as 32 lowercase hex digits, like Envoy's x-request-id.
enum RequestID {
    private static let digits = Array("0123456789abcdef".utf8)

    static func generate(using random: inout some RandomNumberGenerator) -> String {
        hex(random.next(), random.next())
    }

    /// 16 lowercase hex digits (a span id).
    static func hex(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { write(value, into: $0, at: 0); return 16 }
    }

    /// 32 lowercase hex digits: 128 bits as one id (request and trace ids).
    static func hex(_ high: UInt64, _ low: UInt64) -> String {
        String(unsafeUninitializedCapacity: 32) { buffer in
            write(high, into: buffer, at: 0)
            write(low, into: buffer, at: 16)
            return 32
        }
    }

    private static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) {
        for i in 0..<16 { buffer[offset + i] = digits[Int((value >> UInt64(60 - 4 * i)) & 0xF)] }
    }

    /// A client-supplied id is passed on only if it is short printable ASCII, so that it can
    /// be logged and echoed without escaping surprises.
    static func isAcceptable(_ value: String) -> Bool {
        let bytes = value.utf8
        return !bytes.isEmpty && bytes.count <= 128 && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// xoshiro256** seeded once from the system generator: request ids and balancing choices
/// need spread, not secrecy, and the system generator costs a syscall per call.
struct FastRandom: RandomNumberGenerator {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init() {
        var seed = SystemRandomNumberGenerator()
        repeat {
            (s0, s1, s2, s3) = (seed.next(), seed.next(), seed.next(), seed.next())
        } while s0 | s1 | s2 | s3 == 0
    }

    mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }
}
