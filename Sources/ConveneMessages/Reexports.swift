// Whoever reads the generated messages needs swift-protobuf's types too (Google_Protobuf_Timestamp,
// Message): importing the messages brings them, as the plugins' messages module always did.
@_exported import SwiftProtobuf
