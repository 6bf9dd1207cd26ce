import SluiceCache

/// One stored response as the disk tier keeps it (everything needed to rebuild the in-memory
/// object): the keys purge and Vary matching need, the stored fields and times, and the body.
public struct DiskEntry: Sendable, Equatable {
    /// Primary key + Vary values: unique per variant, and what names the file.
    public var id: String
    /// Primary cache key: every variant of one resource shares it.
    public var primary: String
    /// The key's URI part, for purge by URL or prefix.
    public var uri: String
    public var status: Int
    /// The stored response fields.
    public var headers: HeaderFields
    /// Unix seconds.
    public var requestTime: Int64
    public var responseTime: Int64
    /// `VaryKey.fieldNames`.
    public var varyNames: [String]
    /// `VaryKey.values`: nil where the request lacked the field.
    public var varyValues: [String?]
    public var tags: [String]
    public var body: [UInt8]

    public init(
        id: String,
        primary: String,
        uri: String,
        status: Int,
        headers: HeaderFields,
        requestTime: Int64,
        responseTime: Int64,
        varyNames: [String],
        varyValues: [String?],
        tags: [String],
        body: [UInt8]
    ) {
        self.id = id
        self.primary = primary
        self.uri = uri
        self.status = status
        self.headers = headers
        self.requestTime = requestTime
        self.responseTime = responseTime
        self.varyNames = varyNames
        self.varyValues = varyValues
        self.tags = tags
        self.body = body
    }
}
