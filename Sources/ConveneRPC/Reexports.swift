// The RPC core speaks the wire vocabulary (status codes, metadata) without re-declaring it.
@_exported import struct ConveneWire.Metadata
@_exported import struct ConveneWire.StatusCode
@_exported import struct ConveneWire.MessageEncoding
