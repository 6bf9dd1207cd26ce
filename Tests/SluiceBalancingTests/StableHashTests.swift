import Testing
import SluiceBalancing

/// The reference implementation's sanity-check buffer (`XSUM_fillTestBuffer` in xxHash's
/// cli/xsum_sanity_check.c): byte i is the top byte of PRIME32 × PRIME64^i (mod 2^64).
private func sanityBuffer(_ count: Int) -> [UInt8] {
    let prime32: UInt64 = 2_654_435_761
    let prime64: UInt64 = 11_400_714_785_074_694_797
    var generator = prime32
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    for _ in 0..<count {
        bytes.append(UInt8(truncatingIfNeeded: generator >> 56))
        generator &*= prime64
    }
    return bytes
}

private let prime32Seed: UInt64 = 2_654_435_761

/// One expected XXH64 value: the first `length` bytes of the sanity buffer, hashed with `seed`.
struct XXH64Vector: Sendable, CustomTestStringConvertible {
    var length: Int
    var seed: UInt64
    var expected: UInt64
    var testDescription: String { "length \(length), seed \(seed)" }
}

@Suite struct StableHashTests {
    /// `XSUM_XXH64_testdata` in xxHash's cli/xsum_sanity_check.c, the table `xxhsum -b` checks.
    static let referenceVectors = [
        XXH64Vector(length: 0, seed: 0, expected: 0xEF46_DB37_51D8_E999),
        XXH64Vector(length: 0, seed: prime32Seed, expected: 0xAC75_FDA2_929B_17EF),
        XXH64Vector(length: 1, seed: 0, expected: 0xE934_A84A_DB05_2768),
        XXH64Vector(length: 1, seed: prime32Seed, expected: 0x5014_6076_43A9_B4C3),
        XXH64Vector(length: 4, seed: 0, expected: 0x9136_A0DC_A574_57EE),
        XXH64Vector(length: 14, seed: 0, expected: 0x8282_DCC4_994E_35C8),
        XXH64Vector(length: 14, seed: prime32Seed, expected: 0xC3BD_6BF6_3DEB_6DF0),
        XXH64Vector(length: 222, seed: 0, expected: 0xB641_AE8C_B691_C174),
        XXH64Vector(length: 222, seed: prime32Seed, expected: 0x20CB_8AB7_AE10_C14A),
    ]

    /// Lengths the reference table skips, so that every path is pinned: exactly one 8-byte lane,
    /// exactly one stripe, one stripe plus a byte, two stripes, three stripes plus every tail
    /// kind (100 = 96 + 4). Computed with the reference library, libxxhash 0.8.1, over the same
    /// sanity buffer (its table values above reproduce with it too).
    static let tailVectors = [
        XXH64Vector(length: 8, seed: 0, expected: 0xCDBC_F538_E71D_1348),
        XXH64Vector(length: 8, seed: prime32Seed, expected: 0xFE0C_047A_5353_CDAC),
        XXH64Vector(length: 4, seed: prime32Seed, expected: 0xCAAB_286B_D8E9_FDB5),
        XXH64Vector(length: 32, seed: 0, expected: 0x18B2_1649_2BB4_4B70),
        XXH64Vector(length: 32, seed: prime32Seed, expected: 0xB3F3_3BDF_93AD_E409),
        XXH64Vector(length: 33, seed: 0, expected: 0x55C8_DC3E_578F_5B59),
        XXH64Vector(length: 64, seed: prime32Seed, expected: 0xB5EE_BA99_264C_C44F),
        XXH64Vector(length: 100, seed: 0, expected: 0x4BFE_019C_D91D_9EA4),
        XXH64Vector(length: 100, seed: prime32Seed, expected: 0x4853_706D_C962_5CAE),
    ]

    @Test(arguments: referenceVectors)
    func matchesTheReferenceSanityTable(_ vector: XXH64Vector) {
        let bytes = sanityBuffer(vector.length)
        #expect(XXHash64.hash(bytes, seed: vector.seed) == vector.expected)
    }

    @Test(arguments: tailVectors)
    func matchesTheReferenceOnEveryTailPath(_ vector: XXH64Vector) {
        let bytes = sanityBuffer(vector.length)
        #expect(XXHash64.hash(bytes, seed: vector.seed) == vector.expected)
    }

    @Test func emptyInputWithDefaultSeedIsThePublishedValue() {
        #expect(XXHash64.hash([UInt8]()) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash("") == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(UnsafeRawBufferPointer(start: nil, count: 0)) == 0xEF46_DB37_51D8_E999)
    }

    @Test func stringsHashTheirUTF8Bytes() {
        // Widely published values (e.g. `echo -n abc | xxhsum -H1`).
        #expect(XXHash64.hash("a") == 0xD24E_C4F1_A98C_6E5B)
        #expect(XXHash64.hash("abc") == 0x44BC_2CF5_AD77_0999)
        let text = "héllo, wörld — 10.0.0.1:80"
        #expect(XXHash64.hash(text, seed: 7) == XXHash64.hash(Array(text.utf8), seed: 7))
    }

    @Test func everyInputShapeHashesTheSameBytesAlike() {
        let bytes = sanityBuffer(100)
        let expected: UInt64 = 0x4BFE_019C_D91D_9EA4
        #expect(XXHash64.hash(bytes[...]) == expected)
        #expect(XXHash64.hash(bytes.lazy.map { $0 }) == expected)  // not contiguous: copied
        #expect(bytes.withUnsafeBytes { XXHash64.hash($0) } == expected)
    }

    @Test func unalignedInputHashesLikeAlignedInput() {
        // The same 100 bytes at every start offset 0...7 of a larger buffer: the stripe and
        // lane loads must not assume alignment.
        let bytes = sanityBuffer(100)
        for shift in 0..<8 {
            var padded = [UInt8](repeating: 0xAA, count: shift)
            padded += bytes
            let hash = padded.withUnsafeBytes { XXHash64.hash(UnsafeRawBufferPointer(rebasing: $0[shift...])) }
            #expect(hash == 0x4BFE_019C_D91D_9EA4, "start offset \(shift)")
        }
    }

    @Test func wordHashEqualsHashOfItsLittleEndianBytes() {
        var random = SeededRandom(seed: 3)
        for _ in 0..<1_000 {
            let value = random.next()
            let seed = random.next()
            let bytes = (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
            #expect(XXHash64.hash(value, seed: seed) == XXHash64.hash(bytes, seed: seed))
        }
    }
}
