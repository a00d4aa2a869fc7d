import ConveneRPC

// Method descriptors of the services in Protos/. Hand-written beside the generated code;
// a test checks them against the descriptor set so the two cannot drift.

public enum HealthMethods {
    public static let service = "convene.health.v1.Health"
    public static let check = MethodDescriptor(service: service, method: "Check", kind: .unary,
        inputType: "convene.health.v1.HealthCheckRequest", outputType: "convene.health.v1.HealthCheckResponse")
    public static let watch = MethodDescriptor(service: service, method: "Watch", kind: .serverStreaming,
        inputType: "convene.health.v1.HealthCheckRequest", outputType: "convene.health.v1.HealthCheckResponse")
    public static let all = [check, watch]
}

public enum ReflectionMethods {
    public static let service = "convene.reflection.v1.Reflection"
    public static let listServices = MethodDescriptor(service: service, method: "ListServices", kind: .unary,
        inputType: "convene.reflection.v1.ListServicesRequest", outputType: "convene.reflection.v1.ListServicesResponse")
    public static let getFileDescriptors = MethodDescriptor(service: service, method: "GetFileDescriptors", kind: .unary,
        inputType: "convene.reflection.v1.GetFileDescriptorsRequest",
        outputType: "convene.reflection.v1.GetFileDescriptorsResponse")
    public static let all = [listServices, getFileDescriptors]
}

public enum BenchmarkMethods {
    public static let service = "convene.benchmark.v1.Benchmark"
    public static let unaryEcho = MethodDescriptor(service: service, method: "UnaryEcho", kind: .unary,
        inputType: "convene.benchmark.v1.EchoRequest", outputType: "convene.benchmark.v1.EchoResponse")
    public static let streamFromServer = MethodDescriptor(service: service, method: "StreamFromServer", kind: .serverStreaming,
        inputType: "convene.benchmark.v1.StreamRequest", outputType: "convene.benchmark.v1.StreamResponse")
    public static let streamFromClient = MethodDescriptor(service: service, method: "StreamFromClient", kind: .clientStreaming,
        inputType: "convene.benchmark.v1.StreamRequest", outputType: "convene.benchmark.v1.StreamSummary")
    public static let streamBoth = MethodDescriptor(service: service, method: "StreamBoth", kind: .bidirectional,
        inputType: "convene.benchmark.v1.StreamRequest", outputType: "convene.benchmark.v1.StreamResponse")
    public static let all = [unaryEcho, streamFromServer, streamFromClient, streamBoth]
}

public enum TestServiceMethods {
    public static let service = "convene.testing.v1.TestService"
    public static let emptyCall = MethodDescriptor(service: service, method: "EmptyCall", kind: .unary,
        inputType: "convene.testing.v1.Empty", outputType: "convene.testing.v1.Empty")
    public static let unaryCall = MethodDescriptor(service: service, method: "UnaryCall", kind: .unary,
        inputType: "convene.testing.v1.SimpleRequest", outputType: "convene.testing.v1.SimpleResponse")
    public static let streamingOutputCall = MethodDescriptor(service: service, method: "StreamingOutputCall",
        kind: .serverStreaming, inputType: "convene.testing.v1.StreamingOutputCallRequest",
        outputType: "convene.testing.v1.StreamingOutputCallResponse")
    public static let streamingInputCall = MethodDescriptor(service: service, method: "StreamingInputCall",
        kind: .clientStreaming, inputType: "convene.testing.v1.StreamingInputCallRequest",
        outputType: "convene.testing.v1.StreamingInputCallResponse")
    public static let fullDuplexCall = MethodDescriptor(service: service, method: "FullDuplexCall", kind: .bidirectional,
        inputType: "convene.testing.v1.StreamingOutputCallRequest",
        outputType: "convene.testing.v1.StreamingOutputCallResponse")
    public static let sleep = MethodDescriptor(service: service, method: "Sleep", kind: .unary,
        inputType: "convene.testing.v1.SleepRequest", outputType: "convene.testing.v1.Empty")
    /// Declared in the proto but deliberately not served.
    public static let unimplementedCall = MethodDescriptor(service: service, method: "UnimplementedCall", kind: .unary,
        inputType: "convene.testing.v1.Empty", outputType: "convene.testing.v1.Empty")
    /// The served methods.
    public static let all = [emptyCall, unaryCall, streamingOutputCall, streamingInputCall, fullDuplexCall, sleep]
}
