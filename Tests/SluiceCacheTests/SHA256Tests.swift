import SluiceCache
import Testing

@Suite struct SHA256Tests {
    /// 64 distinct characters; its prefixes give inputs of every length up to one block.
    let alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"

    func hex(_ bytes: some Sequence<UInt8>) -> String { SHA256.hexString(SHA256.hash(bytes)) }

    // MARK: The FIPS 180-4 / NIST example vectors

    @Test func theEmptyMessage() {
        #expect(SHA256.hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func oneBlockABC() {
        #expect(SHA256.hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abc".utf8)) == [
            0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
            0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
        ])
    }

    @Test func twoBlocks448Bits() {
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func the896BitMessage() {
        #expect(SHA256.hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")
            == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    @Test func oneMillionAs() {
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        #expect(hex(repeatElement(UInt8(ascii: "a"), count: 1_000_000)) == expected)
        #expect(SHA256.hex(String(repeating: "a", count: 1_000_000)) == expected)
    }

    // MARK: Padding boundaries, against `sha256sum`

    /// `printf %s <prefix> | sha256sum`: 55 bytes is the longest message padded within one block,
    /// 56 the shortest needing a second, 64 exactly one block of message.
    @Test func lengthsAroundTheBlockBoundary() {
        let expected: [(Int, String)] = [
            (55, "d74ba075e4259c6c807c4101e66d281096cf9ff14ba01260dee741b1bdaef326"),
            (56, "8fb605eab2efae3d1fcc881fa5c5dd6219a17ca3663e46642ff566847c24c272"),
            (63, "f97180402a8be89995e76ea31770110e54ef0b8f1eb2022065af9201bfc85c86"),
            (64, "e5b38ac5aa22fee56fe7095e076e74c03ce60d2ea43b818d0f7b4252faf32e5a"),
        ]
        for (length, digest) in expected {
            #expect(SHA256.hex(String(alphabet.prefix(length))) == digest, "\(length) bytes")
        }
        #expect(SHA256.hex(alphabet + "=") == "8a0dacb9b876ae723719ae456ea3d7495431e22ff2dbd315982adb56886360dc", "65 bytes")
    }

    @Test func lengthsAroundTheSecondBlockBoundary() {
        let twice = Array((alphabet + alphabet).utf8)
        #expect(hex(twice.prefix(119)) == "aebb7b59a4d0a1902aa8891eb654040b63be98c65da76ef611ed47732e9759db")
        #expect(hex(twice.prefix(120)) == "0acbbb5accedd02bd38855cdf171cdeb6037df1518d30f31b80e2f8b0a8e1424")
    }

    @Test func hexHashesTheUTF8() {
        #expect(SHA256.hex("café") == "850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f466a7028a9bf4e")
        #expect(SHA256.hex("GET https://example.com/a?b=c")
            == "e3a7204144cfc18a3c0cb2eab2edf6b8b7f0c1fbc97a23637ddae45f1951b3e3")
    }

    // MARK: The streaming API

    @Test func everySplitGivesTheSameDigest() {
        let message = Array((alphabet + alphabet + alphabet).utf8.prefix(150))
        let whole = SHA256.hash(message)
        for split in 0...message.count {
            var hasher = SHA256.Hasher()
            hasher.update(message[..<split])
            hasher.update(message[split...])
            #expect(hasher.finalize() == whole, "split at \(split)")
        }
    }

    @Test func byteByByteAndNonContiguousInputAgree() {
        let message = Array(alphabet.utf8) + Array(alphabet.utf8.prefix(7))
        var hasher = SHA256.Hasher()
        for byte in message { hasher.update(CollectionOfOne(byte)) }
        #expect(hasher.finalize() == SHA256.hash(message))
        // A lazy map has no contiguous storage: the byte-at-a-time path.
        #expect(SHA256.hash(message.lazy.map { $0 }) == SHA256.hash(message))
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256.Hasher()
        hasher.update("ab".utf8)
        #expect(hasher.finalize() == SHA256.hash("ab".utf8))
        hasher.update("c".utf8)
        #expect(SHA256.hexString(hasher.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexString(SHA256.Hasher().finalize()) == SHA256.hex(""))
    }

    @Test func millionAsInUnevenPieces() {
        var hasher = SHA256.Hasher()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 999)
        var fed = 0
        while fed < 1_000_000 {
            let count = min(piece.count, 1_000_000 - fed)
            hasher.update(piece.prefix(count))
            fed += count
        }
        #expect(SHA256.hexString(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}
