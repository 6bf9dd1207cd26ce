/// HTTP-date (RFC 9110 §5.6.7) to and from Unix seconds, by calendar arithmetic alone.
///
/// Accepted: IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete forms recipients
/// MUST still accept, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` and asctime
/// `Sun Nov  6 08:49:37 1994`. Names are case-sensitive as the grammar writes them; the day
/// name must be a day name but need not match the date (it carries no information); fields
/// out of range (Feb 30, 24:00:00) make the date invalid. Seconds may be 60 (a leap second).
public enum HTTPDate {
    /// Unix seconds, or nil when `text` is not an HTTP-date. `now` (Unix seconds) is read only
    /// for RFC 850's two-digit year: one that would be more than 50 years ahead of `now` is
    /// the most recent past year with those digits (RFC 9110 §5.6.7).
    public static func parse(_ text: some StringProtocol, now: Int64) -> Int64? {
        var reader = Reader(Array(FieldSyntax.trimmed(Substring(text)).utf8))
        if reader.bytes.count > 3, reader.bytes[3] == UInt8(ascii: ",") { return imfFixdate(&reader) }
        if reader.bytes.count > 3, reader.bytes[3] == FieldSyntax.space { return asctime(&reader) }
        return rfc850(&reader, now: now)
    }

    /// `seconds` as an IMF-fixdate, the only form a sender may generate (RFC 9110 §5.6.7).
    /// Meant for years 0 through 9999.
    public static func format(_ seconds: Int64) -> String {
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekday = Int(floorModulo(days + 4, 7))  // 1970-01-01 was a Thursday.
        return "\(shortDays[weekday]), \(twoDigits(day)) \(months[month - 1]) \(fourDigits(year)) "
            + "\(twoDigits(secondOfDay / 3_600)):\(twoDigits(secondOfDay / 60 % 60)):\(twoDigits(secondOfDay % 60)) GMT"
    }

    private static func imfFixdate(_ reader: inout Reader) -> Int64? {
        guard reader.name(in: shortDays) != nil, reader.literal(", "), let day = reader.digits(2), reader.literal(" "),
              let month = reader.name(in: months), reader.literal(" "), let year = reader.digits(4), reader.literal(" "),
              let time = reader.timeOfDay(), reader.literal(" GMT"), reader.atEnd else { return nil }
        return timestamp(year: year, month: month + 1, day: day, time: time)
    }

    private static func rfc850(_ reader: inout Reader, now: Int64) -> Int64? {
        guard reader.name(in: longDays) != nil, reader.literal(", "), let day = reader.digits(2), reader.literal("-"),
              let month = reader.name(in: months), reader.literal("-"), let shortYear = reader.digits(2),
              reader.literal(" "), let time = reader.timeOfDay(), reader.literal(" GMT"), reader.atEnd else { return nil }
        let currentYear = civil(fromDays: floorDivide(now, 86_400)).year
        var year = currentYear - floorModulo(currentYear, 100) + shortYear
        if year > currentYear + 50 { year -= 100 }
        return timestamp(year: year, month: month + 1, day: day, time: time)
    }

    private static func asctime(_ reader: inout Reader) -> Int64? {
        guard reader.name(in: shortDays) != nil, reader.literal(" "), let month = reader.name(in: months),
              reader.literal(" ") else { return nil }
        let day = reader.literal(" ") ? reader.digits(1) : reader.digits(2)  // `( 2DIGIT / ( SP DIGIT ) )`
        guard let day, reader.literal(" "), let time = reader.timeOfDay(), reader.literal(" "),
              let year = reader.digits(4), reader.atEnd else { return nil }
        return timestamp(year: year, month: month + 1, day: day, time: time)
    }

    private static func timestamp(year: Int64, month: Int64, day: Int64, time: Int64?) -> Int64? {
        guard let time, day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + time
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date. The year is counted from March, so
    /// that a leap day falls at the end of its year and each 400-year era has 146,097 days.
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let marchYear = month > 2 ? year : year - 1
        let era = floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let marchMonth = (month + 9) % 12  // March = 0 ... February = 11.
        let dayOfYear = (153 * marchMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468  // 719,468 days from 0000-03-01 to 1970-01-01.
    }

    /// The inverse of `days(fromCivil:)`.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * marchMonth + 2) / 5 + 1
        let month = marchMonth < 10 ? marchMonth + 3 : marchMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), Int(month), day)
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        value >= 0 ? value / divisor : -((-value + divisor - 1) / divisor)
    }

    private static func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        value - floorDivide(value, divisor) * divisor
    }

    private static func twoDigits(_ value: some BinaryInteger) -> String { value < 10 ? "0\(value)" : "\(value)" }

    private static func fourDigits(_ value: Int64) -> String {
        String(repeating: "0", count: max(0, 4 - String(value).count)) + String(value)
    }

    static let shortDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}

/// A cursor over a date's bytes; each read consumes only on success.
private struct Reader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position == bytes.count }

    mutating func literal(_ text: String) -> Bool {
        let count = text.utf8.count
        guard bytes.count - position >= count, bytes[position..<position + count].elementsEqual(text.utf8) else {
            return false
        }
        position += count
        return true
    }

    /// Exactly `count` digits.
    mutating func digits(_ count: Int) -> Int64? {
        guard bytes.count - position >= count else { return nil }
        var value: Int64 = 0
        for byte in bytes[position..<position + count] {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)
        }
        position += count
        return value
    }

    /// The index in `names` of the name at the cursor.
    mutating func name(in names: [String]) -> Int64? {
        names.firstIndex { literal($0) }.map(Int64.init)
    }

    /// `hour ":" minute ":" second` as seconds into the day; nil when out of range.
    mutating func timeOfDay() -> Int64? {
        guard let hour = digits(2), literal(":"), let minute = digits(2), literal(":"), let second = digits(2),
              hour < 24, minute < 60, second <= 60 else { return nil }
        return hour * 3_600 + minute * 60 + second
    }
}
