import NIOCore
import NIOHTTP1

/// An idle keep-alive HTTP/1.1 connection gives back its request decoder. NIO's holds about
/// 1.4 KiB per connection (llhttp's state, a 16-field array kept for the next head, the
/// ByteToMessageHandler's buffers), most of what an idle connection costs beyond its socket.
/// After `timeouts.client_park` without a byte, ClientTimeoutHandler removes it, and adds a
/// fresh one before the next byte passes (nginx, too, frees a keep-alive connection's request
/// buffers while it waits).
///
/// Only a decoder at rest is removed: one that holds nothing of a next request. llhttp takes
/// every byte it is given, so that is judged from outside: the last read ended with a blank
/// line, and in it the decoder completed exactly one head and then an end. Bytes after that
/// end which still ended with a blank line would have made a second head (or a parse error),
/// so none followed it. Any other read (a pipelined or split request, a body) leaves the
/// decoder in place until a later read qualifies.
struct DecoderParking {
    let after: TimeAmount
    private let limits: NIOHTTPDecoderLimitConfiguration
    /// Sees every part the decoder produces (it sits right after it).
    private let encoder: ClientResponseEncoder
    /// Nil while parked.
    private(set) var decoder: ByteToMessageHandler<HTTPRequestDecoder>?
    private(set) var atRest = false
    private var headsBefore = 0
    private var endsWithBlankLine = false

    init(after: TimeAmount, limits: NIOHTTPDecoderLimitConfiguration, encoder: ClientResponseEncoder,
         decoder: ByteToMessageHandler<HTTPRequestDecoder>) {
        self.after = after
        self.limits = limits
        self.encoder = encoder
        self.decoder = decoder
    }

    static func makeDecoder(_ limits: NIOHTTPDecoderLimitConfiguration) -> ByteToMessageHandler<HTTPRequestDecoder> {
        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits))
    }

    mutating func willRead(_ bytes: ByteBuffer) {
        headsBefore = encoder.decodedHeads
        let count = bytes.readableBytes
        endsWithBlankLine = count >= 4
            && bytes.getInteger(at: bytes.readerIndex + count - 4, as: UInt32.self) == 0x0D0A_0D0A
    }

    mutating func didRead() {
        atRest = endsWithBlankLine && encoder.decodedHeads == headsBefore + 1 && encoder.lastDecodedWasEnd
    }

    /// Removes the decoder if it is at rest; whether it did.
    mutating func park(_ pipeline: ChannelPipeline.SynchronousOperations) -> Bool {
        guard atRest, let decoder else { return false }
        pipeline.removeHandler(decoder, promise: nil)
        self.decoder = nil
        atRest = false
        return true
    }

    /// Puts a fresh decoder back, after `handler` (ClientTimeoutHandler).
    mutating func unpark(_ pipeline: ChannelPipeline.SynchronousOperations, after handler: any ChannelHandler) throws {
        let decoder = Self.makeDecoder(limits)
        try pipeline.addHandler(decoder, position: .after(handler))
        self.decoder = decoder
    }
}
