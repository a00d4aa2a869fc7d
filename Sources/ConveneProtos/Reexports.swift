// The generated services speak the generated messages: whoever uses one uses the other.
@_exported import ConveneMessages
