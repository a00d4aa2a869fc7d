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

public enum AdministrationMethods {
    public static let service = "convene.admin.v1.Administration"
    static func unary(_ name: String, _ input: String, _ output: String) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: .unary, inputType: input, outputType: output)
    }
    public static let registerParty = unary("RegisterParty", "convene.admin.v1.RegisterPartyRequest", "convene.parties.v1.Party")
    public static let setRoles = unary("SetRoles", "convene.admin.v1.SetRolesRequest", "convene.parties.v1.Party")
    public static let listParties = unary("ListParties", "convene.admin.v1.ListPartiesRequest", "convene.admin.v1.ListPartiesResponse")
    public static let issueCredential = unary("IssueCredential", "convene.admin.v1.IssueCredentialRequest",
                                              "convene.admin.v1.IssueCredentialResponse")
    public static let revokeCredential = unary("RevokeCredential", "convene.admin.v1.RevokeCredentialRequest",
                                               "convene.admin.v1.RevokeCredentialResponse")
    public static let all = [registerParty, setRoles, listParties, issueCredential, revokeCredential]
}

public enum ConsultationMethods {
    public static let service = "convene.consultation.v1.Consultation"
    static let package = "convene.consultation.v1."
    static func unary(_ name: String, _ input: String, _ output: String) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: .unary, inputType: package + input, outputType: package + output)
    }
    public static let createOperation = unary("CreateOperation", "CreateOperationRequest", "Operation")
    public static let getOperation = unary("GetOperation", "GetOperationRequest", "Operation")
    public static let listOperations = unary("ListOperations", "ListOperationsRequest", "ListOperationsResponse")
    public static let updateMandate = unary("UpdateMandate", "UpdateMandateRequest", "Operation")
    public static let recordContribution = unary("RecordContribution", "RecordContributionRequest", "Contribution")
    public static let listContributions = unary("ListContributions", "ListContributionsRequest", "ListContributionsResponse")
    public static let identifyPotentialContributor = unary("IdentifyPotentialContributor",
                                                           "IdentifyPotentialContributorRequest", "Operation")
    public static let proposeInvitations = unary("ProposeInvitations", "ProposeInvitationsRequest", "ProposeInvitationsResponse")
    public static let conveneMeeting = unary("ConveneMeeting", "ConveneMeetingRequest", "Meeting")
    public static let getMeeting = unary("GetMeeting", "GetMeetingRequest", "Meeting")
    public static let listMeetings = unary("ListMeetings", "ListMeetingsRequest", "ListMeetingsResponse")
    public static let markMeetingHeld = unary("MarkMeetingHeld", "MarkMeetingHeldRequest", "Meeting")
    public static let recordStatement = unary("RecordStatement", "RecordStatementRequest", "Statement")
    public static let respondToConcern = unary("RespondToConcern", "RespondToConcernRequest", "Statement")
    public static let requestMeeting = unary("RequestMeeting", "RequestMeetingRequest", "MeetingRequest")
    public static let listMeetingRequests = unary("ListMeetingRequests", "ListMeetingRequestsRequest", "ListMeetingRequestsResponse")
    public static let declineMeetingRequest = unary("DeclineMeetingRequest", "DeclineMeetingRequestRequest", "MeetingRequest")
    public static let prepareSummary = unary("PrepareSummary", "PrepareSummaryRequest", "Summary")
    public static let circulateSummary = unary("CirculateSummary", "CirculateSummaryRequest", "Summary")
    public static let getSummary = unary("GetSummary", "GetSummaryRequest", "Summary")
    public static let getConsultationAccount = unary("GetConsultationAccount", "GetConsultationAccountRequest", "ConsultationAccount")
    public static let watchOperation = MethodDescriptor(service: service, method: "WatchOperation", kind: .serverStreaming,
        inputType: package + "WatchOperationRequest", outputType: package + "OperationEvent")
    public static let all = [createOperation, getOperation, listOperations, updateMandate, recordContribution,
                             listContributions, identifyPotentialContributor, proposeInvitations, conveneMeeting,
                             getMeeting, listMeetings, markMeetingHeld, recordStatement, respondToConcern,
                             requestMeeting, listMeetingRequests, declineMeetingRequest, prepareSummary,
                             circulateSummary, getSummary, getConsultationAccount, watchOperation]
}

public enum BriefingMethods {
    public static let service = "convene.briefing.v1.Briefing"
    static let package = "convene.briefing.v1."
    static func method(_ name: String, _ input: String, _ output: String, _ kind: MethodKind = .unary) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: kind, inputType: package + input, outputType: package + output)
    }
    public static let publishReport = method("PublishReport", "PublishReportRequest", "Report")
    public static let distributeReport = method("DistributeReport", "DistributeReportRequest", "Report")
    public static let listReports = method("ListReports", "ListReportsRequest", "ListReportsResponse")
    public static let issueFactSheet = method("IssueFactSheet", "IssueFactSheetRequest", "FactSheet")
    public static let listFactSheets = method("ListFactSheets", "ListFactSheetsRequest", "ListFactSheetsResponse")
    public static let uploadAttachment = method("UploadAttachment", "AttachmentChunk", "Attachment", .clientStreaming)
    public static let downloadAttachment = method("DownloadAttachment", "DownloadAttachmentRequest", "AttachmentChunk", .serverStreaming)
    public static let giveBriefing = method("GiveBriefing", "GiveBriefingRequest", "BriefingRecord")
    public static let listBriefings = method("ListBriefings", "ListBriefingsRequest", "ListBriefingsResponse")
    public static let submitAdvice = method("SubmitAdvice", "SubmitAdviceRequest", "Advice")
    public static let listAdvice = method("ListAdvice", "ListAdviceRequest", "ListAdviceResponse")
    public static let all = [publishReport, distributeReport, listReports, issueFactSheet, listFactSheets, uploadAttachment,
                             downloadAttachment, giveBriefing, listBriefings, submitAdvice, listAdvice]
}

public enum LessonsMethods {
    public static let service = "convene.lessons.v1.Lessons"
    static let package = "convene.lessons.v1."
    static func method(_ name: String, _ input: String, _ output: String, _ kind: MethodKind = .unary) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: kind, inputType: package + input, outputType: package + output)
    }
    public static let conveneEvaluationMeeting = method("ConveneEvaluationMeeting", "ConveneEvaluationMeetingRequest", "EvaluationMeeting")
    public static let submitExperience = method("SubmitExperience", "ExperienceChunk", "Experience", .clientStreaming)
    public static let listExperience = method("ListExperience", "ListExperienceRequest", "ListExperienceResponse")
    public static let recordLesson = method("RecordLesson", "RecordLessonRequest", "Lesson")
    public static let searchLessons = method("SearchLessons", "SearchLessonsRequest", "SearchLessonsResponse")
    public static let all = [conveneEvaluationMeeting, submitExperience, listExperience, recordLesson, searchLessons]
}

public enum PluginAdministrationMethods {
    public static let service = "convene.plugins.v1.PluginAdministration"
    static let package = "convene.plugins.v1."
    static func unary(_ name: String, _ input: String, _ output: String) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: .unary, inputType: package + input, outputType: package + output)
    }
    public static let listPlugins = unary("ListPlugins", "ListPluginsRequest", "ListPluginsResponse")
    public static let loadPlugin = unary("LoadPlugin", "LoadPluginRequest", "PluginInfo")
    public static let unloadPlugin = unary("UnloadPlugin", "UnloadPluginRequest", "UnloadPluginResponse")
    public static let reloadPlugin = unary("ReloadPlugin", "ReloadPluginRequest", "PluginInfo")
    public static let all = [listPlugins, loadPlugin, unloadPlugin, reloadPlugin]
}

/// The standard gRPC health service, served beside convene.health.v1 from the same state.
public enum GRPCHealthMethods {
    public static let service = "grpc.health.v1.Health"
    public static let check = MethodDescriptor(service: service, method: "Check", kind: .unary,
        inputType: "grpc.health.v1.HealthCheckRequest", outputType: "grpc.health.v1.HealthCheckResponse")
    public static let list = MethodDescriptor(service: service, method: "List", kind: .unary,
        inputType: "grpc.health.v1.HealthListRequest", outputType: "grpc.health.v1.HealthListResponse")
    public static let watch = MethodDescriptor(service: service, method: "Watch", kind: .serverStreaming,
        inputType: "grpc.health.v1.HealthCheckRequest", outputType: "grpc.health.v1.HealthCheckResponse")
    public static let all = [check, list, watch]
}

/// The standard gRPC server reflection service, in its current (v1) and older (v1alpha) names.
public enum ServerReflectionMethods {
    public static func info(package: String) -> MethodDescriptor {
        MethodDescriptor(service: "\(package).ServerReflection", method: "ServerReflectionInfo", kind: .bidirectional,
                         inputType: "\(package).ServerReflectionRequest", outputType: "\(package).ServerReflectionResponse")
    }
    public static let v1 = info(package: "grpc.reflection.v1")
    public static let v1alpha = info(package: "grpc.reflection.v1alpha")
    public static let all = [v1, v1alpha]
}

/// gRPC's interop TestService (grpc.testing), served with --enable-interop.
public enum GRPCTestServiceMethods {
    public static let service = "grpc.testing.TestService"
    static func method(_ name: String, _ kind: MethodKind, _ input: String, _ output: String) -> MethodDescriptor {
        MethodDescriptor(service: service, method: name, kind: kind, inputType: "grpc.testing.\(input)",
                         outputType: "grpc.testing.\(output)")
    }
    public static let emptyCall = method("EmptyCall", .unary, "Empty", "Empty")
    public static let unaryCall = method("UnaryCall", .unary, "SimpleRequest", "SimpleResponse")
    public static let cacheableUnaryCall = method("CacheableUnaryCall", .unary, "SimpleRequest", "SimpleResponse")
    public static let streamingOutputCall = method("StreamingOutputCall", .serverStreaming,
                                                   "StreamingOutputCallRequest", "StreamingOutputCallResponse")
    public static let streamingInputCall = method("StreamingInputCall", .clientStreaming,
                                                  "StreamingInputCallRequest", "StreamingInputCallResponse")
    public static let fullDuplexCall = method("FullDuplexCall", .bidirectional,
                                              "StreamingOutputCallRequest", "StreamingOutputCallResponse")
    public static let halfDuplexCall = method("HalfDuplexCall", .bidirectional,
                                              "StreamingOutputCallRequest", "StreamingOutputCallResponse")
    /// Declared but, as the interop cases require, not served.
    public static let unimplementedCall = method("UnimplementedCall", .unary, "Empty", "Empty")
    /// The served methods.
    public static let all = [emptyCall, unaryCall, cacheableUnaryCall, streamingOutputCall, streamingInputCall,
                             fullDuplexCall, halfDuplexCall]
}
