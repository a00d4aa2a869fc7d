import NIOCore

/// A `ByteToMessageDecoder` of frames (after the preface), for pipelines and tests.
/// The connection handlers call `FrameParser` directly on their input instead.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Frame
    public let parser: FrameParser

    public init(parser: FrameParser = FrameParser()) {
        self.parser = parser
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
