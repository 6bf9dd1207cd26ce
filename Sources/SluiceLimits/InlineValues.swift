/// A fixed number of values stored inline and indexed through memory, not vector registers
/// (a SIMD vector written one lane at a time and then read whole stalls on every decision).
/// `Storage` is a homogeneous tuple of `Element`s; indexes are checked in debug builds only.
struct InlineValues<Storage: BitwiseCopyable & Sendable, Element: BitwiseCopyable & Equatable>: Sendable {
    var storage: Storage

    static var count: Int { MemoryLayout<Storage>.size / MemoryLayout<Element>.stride }

    @inline(__always)
    subscript(index: Int) -> Element {
        get {
            assert(index >= 0 && index < Self.count)
            return withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index * MemoryLayout<Element>.stride, as: Element.self) }
        }
        set {
            assert(index >= 0 && index < Self.count)
            withUnsafeMutableBytes(of: &storage) {
                $0.storeBytes(of: newValue, toByteOffset: index * MemoryLayout<Element>.stride, as: Element.self)
            }
        }
    }
}

extension InlineValues: Equatable {
    static func == (lhs: Self, rhs: Self) -> Bool {
        (0..<count).allSatisfy { lhs[$0] == rhs[$0] }
    }
}

/// Eight state words: four tiers of at most two words.
typealias StateWords = InlineValues<(UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), UInt64>

extension StateWords {
    static var zero: Self { Self(storage: (0, 0, 0, 0, 0, 0, 0, 0)) }
}

/// One value per tier.
typealias TierValues<Element: BitwiseCopyable & Equatable & Sendable> = InlineValues<(Element, Element, Element, Element), Element>
