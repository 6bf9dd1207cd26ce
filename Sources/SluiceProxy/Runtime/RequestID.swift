/// Request ids: 128 random bits as 32 lowercase hex digits, like Envoy's x-request-id.
enum RequestID {
    private static let digits = Array("0123456789abcdef".utf8)

    static func generate(using random: inout some RandomNumberGenerator) -> String {
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
