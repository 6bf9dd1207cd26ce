/// SHA-256 (FIPS 180-4 §6.2) in pure Swift: the disk cache names a file by the lowercase hex
/// digest of its cache key. Not constant-time and not meant for secrets, only for names.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// The lowercase hex digest of `text`'s UTF-8.
    public static func hex(_ text: String) -> String {
        hexString(hash(text.utf8))
    }

    /// `digest` as lowercase hex, two digits a byte.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A digest fed in pieces: any split of the same bytes gives the same digest as `hash`.
    public struct Hasher: Sendable {
        /// H(i), the intermediate hash value (§6.2.2 step 4).
        private var state = SHA256.initialHash
        /// Bytes not yet compressed, always fewer than 64.
        private var pending: [UInt8] = []
        /// Bytes seen so far; the padding records it in bits modulo 2^64 (§5.1.1).
        private var byteCount: UInt64 = 0

        public init() {
            pending.reserveCapacity(SHA256.blockSize)
        }

        /// Feeds `bytes`; contiguous input (arrays, slices, native strings' UTF-8) is read in
        /// whole blocks, anything else a byte at a time.
        public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
            let handled: Void? = bytes.withContiguousStorageIfAvailable { update(contiguous: $0) }
            guard handled == nil else { return }
            for byte in bytes {
                pending.append(byte)
                byteCount &+= 1
                if pending.count == SHA256.blockSize {
                    pending.withUnsafeBufferPointer { SHA256.compress(&state, $0[...]) }
                    pending.removeAll(keepingCapacity: true)
                }
            }
        }

        /// Whole blocks straight from `bytes`, only the tail through `pending`.
        private mutating func update(contiguous bytes: UnsafeBufferPointer<UInt8>) {
            byteCount &+= UInt64(bytes.count)
            var rest = bytes[...]
            if !pending.isEmpty {
                let taken = rest.prefix(SHA256.blockSize - pending.count)
                pending.append(contentsOf: taken)
                rest = rest[taken.endIndex...]
                guard pending.count == SHA256.blockSize else { return }
                pending.withUnsafeBufferPointer { SHA256.compress(&state, $0[...]) }
                pending.removeAll(keepingCapacity: true)
            }
            while rest.count >= SHA256.blockSize {
                SHA256.compress(&state, rest.prefix(SHA256.blockSize))
                rest = rest.dropFirst(SHA256.blockSize)
            }
            pending.append(contentsOf: rest)
        }

        /// The digest of everything so far; the hasher itself is unchanged and can go on.
        ///
        /// §5.1.1 padding: a 1 bit, zeros up to 448 bits modulo 512, then the message length
        /// in bits as a 64-bit big-endian integer.
        public func finalize() -> [UInt8] {
            var state = state
            var tail = pending
            tail.append(0x80)
            let zeros = (SHA256.blockSize * 2 - 8 - tail.count) % SHA256.blockSize
            tail.append(contentsOf: repeatElement(0, count: zeros))
            let bitCount = byteCount &* 8
            for shift in stride(from: 56, through: 0, by: -8) {
                tail.append(UInt8(truncatingIfNeeded: bitCount >> UInt64(shift)))
            }
            tail.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < buffer.count {
                    SHA256.compress(&state, buffer[start..<start + SHA256.blockSize])
                    start += SHA256.blockSize
                }
            }
            var digest: [UInt8] = []
            digest.reserveCapacity(32)
            for word in state {
                digest.append(UInt8(truncatingIfNeeded: word >> 24))
                digest.append(UInt8(truncatingIfNeeded: word >> 16))
                digest.append(UInt8(truncatingIfNeeded: word >> 8))
                digest.append(UInt8(truncatingIfNeeded: word))
            }
            return digest
        }
    }

    static let blockSize = 64

    /// §6.2.2: one 512-bit block into the intermediate hash.
    private static func compress(_ state: inout [UInt32], _ block: Slice<UnsafeBufferPointer<UInt8>>) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
            // Step 1, the message schedule W0...W63.
            var index = block.startIndex
            for t in 0..<16 {
                schedule[t] = UInt32(block[index]) << 24 | UInt32(block[index + 1]) << 16
                    | UInt32(block[index + 2]) << 8 | UInt32(block[index + 3])
                index += 4
            }
            for t in 16..<64 {
                schedule[t] = smallSigma1(schedule[t - 2]) &+ schedule[t - 7] &+ smallSigma0(schedule[t - 15]) &+ schedule[t - 16]
            }
            // Steps 2 to 4.
            var a = state[0], b = state[1], c = state[2], d = state[3]
            var e = state[4], f = state[5], g = state[6], h = state[7]
            for t in 0..<64 {
                let t1 = h &+ bigSigma1(e) &+ choose(e, f, g) &+ roundConstants[t] &+ schedule[t]
                let t2 = bigSigma0(a) &+ majority(a, b, c)
                h = g
                g = f
                f = e
                e = d &+ t1
                d = c
                c = b
                b = a
                a = t1 &+ t2
            }
            state[0] &+= a
            state[1] &+= b
            state[2] &+= c
            state[3] &+= d
            state[4] &+= e
            state[5] &+= f
            state[6] &+= g
            state[7] &+= h
        }
    }

    // §4.1.2's functions; ROTR is §3.2's rotate right.
    private static func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
    private static func choose(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { (x & y) ^ (~x & z) }
    private static func majority(_ x: UInt32, _ y: UInt32, _ z: UInt32) -> UInt32 { (x & y) ^ (x & z) ^ (y & z) }
    private static func bigSigma0(_ x: UInt32) -> UInt32 { rotateRight(x, 2) ^ rotateRight(x, 13) ^ rotateRight(x, 22) }
    private static func bigSigma1(_ x: UInt32) -> UInt32 { rotateRight(x, 6) ^ rotateRight(x, 11) ^ rotateRight(x, 25) }
    private static func smallSigma0(_ x: UInt32) -> UInt32 { rotateRight(x, 7) ^ rotateRight(x, 18) ^ x >> 3 }
    private static func smallSigma1(_ x: UInt32) -> UInt32 { rotateRight(x, 17) ^ rotateRight(x, 19) ^ x >> 10 }

    /// §5.3.3: H(0), the first 32 bits of the fractional parts of the square roots of the
    /// first 8 primes. Both tables were derived with integer roots, floor(sqrt(p * 2^64)) and
    /// floor(cbrt(p * 2^96)) modulo 2^32, and agree with the standard's.
    private static let initialHash: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]

    /// §4.2.2: K0...K63, the first 32 bits of the fractional parts of the cube roots of the
    /// first 64 primes.
    private static let roundConstants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}
