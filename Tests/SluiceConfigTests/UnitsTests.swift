import Testing
@testable import SluiceConfig

@Suite struct UnitsTests {
    @Test func durations() {
        #expect(Units.duration("250ms") == .milliseconds(250))
        #expect(Units.duration("5s") == .seconds(5))
        #expect(Units.duration("2m") == .seconds(120))
        #expect(Units.duration("1h") == .seconds(3600))
        #expect(Units.duration("1.5s") == .milliseconds(1500))
        #expect(Units.duration("0.25m") == .seconds(15))
    }

    @Test(arguments: ["5", "", "s", "5x", "-5s", "+5s", "1.s", ".5s", "5 s", "1.2.3s", "5S", "99999999999999h"])
    func invalidDurations(_ text: String) {
        #expect(Units.duration(text) == nil)
    }

    @Test func byteSizes() {
        #expect(Units.byteSize("16384") == 16384)
        #expect(Units.byteSize("512B") == 512)
        #expect(Units.byteSize("32KiB") == 32 * 1024)
        #expect(Units.byteSize("1MiB") == 1 << 20)
        #expect(Units.byteSize("2GiB") == 2 << 30)
        #expect(Units.byteSize("5KB") == 5000)
        #expect(Units.byteSize("5MB") == 5_000_000)
        #expect(Units.byteSize("1GB") == 1_000_000_000)
        #expect(Units.byteSize("8k") == 8192)
        #expect(Units.byteSize("8K") == 8192)
        #expect(Units.byteSize("1m") == 1 << 20)
        #expect(Units.byteSize("1g") == 1 << 30)
    }

    @Test(arguments: ["", "KiB", "1.5MiB", "-1", "+1", "12XB", "1 MiB", "1kib", "99999999999GiB"])
    func invalidByteSizes(_ text: String) {
        #expect(Units.byteSize(text) == nil)
    }
}
