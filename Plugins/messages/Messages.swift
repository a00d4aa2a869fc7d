// The service messages Swift plugins read, generated into Generated/ by `make protos`.
@_exported import SwiftProtobuf
