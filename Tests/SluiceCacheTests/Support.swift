import SluiceCache

/// Tue, 01 Dec 2026 10:00:00 GMT in Unix seconds: the instant most tests start from.
let t0: Int64 = 1_796_119_200
let date0 = "Tue, 01 Dec 2026 10:00:00 GMT"

/// A 200 stored at `t0` (request and response both at `t0` unless given), dated `date0`
/// unless `headers` has its own Date.
func stored(
    _ headers: HeaderFields,
    status: Int = 200,
    requestTime: Int64 = t0,
    responseTime: Int64 = t0,
    policy: CachePolicy = CachePolicy()
) -> StoredResponse {
    var headers = headers
    if !headers.contains("Date") { headers.append("Date", date0) }
    return StoredResponse(status: status, headers: headers, requestTime: requestTime, responseTime: responseTime, policy: policy)
}

/// `seconds` after `t0` as an HTTP-date.
func date(_ seconds: Int64) -> String { HTTPDate.format(t0 + seconds) }

/// `left`'s lines, then `right`'s.
func + (left: HeaderFields, right: HeaderFields) -> HeaderFields {
    HeaderFields(left.fields + right.fields)
}
