import ConveneMessages
import SwiftProtobuf

/// A unary method of the server that a plugin calls (`PluginContext.call`): its path and its
/// request and response types, so that a call cannot name one and decode another.
public struct HostMethod<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable {
    public let path: String

    public init(service: String, method: String) {
        path = "/\(service)/\(method)"
    }
}

/// The server's methods plugins read from, typed.
public enum HostMethods {
    public enum Consultation {
        static let service = "convene.consultation.v1.Consultation"
        public static let getOperation = HostMethod<Convene_Consultation_V1_GetOperationRequest, Convene_Consultation_V1_Operation>(
            service: service, method: "GetOperation")
        public static let listOperations = HostMethod<Convene_Consultation_V1_ListOperationsRequest,
                                                      Convene_Consultation_V1_ListOperationsResponse>(service: service, method: "ListOperations")
        public static let listContributions = HostMethod<Convene_Consultation_V1_ListContributionsRequest,
                                                         Convene_Consultation_V1_ListContributionsResponse>(service: service, method: "ListContributions")
        public static let getMeeting = HostMethod<Convene_Consultation_V1_GetMeetingRequest, Convene_Consultation_V1_Meeting>(
            service: service, method: "GetMeeting")
        public static let listMeetings = HostMethod<Convene_Consultation_V1_ListMeetingsRequest, Convene_Consultation_V1_ListMeetingsResponse>(
            service: service, method: "ListMeetings")
        public static let getSummary = HostMethod<Convene_Consultation_V1_GetSummaryRequest, Convene_Consultation_V1_Summary>(
            service: service, method: "GetSummary")
        public static let getConsultationAccount = HostMethod<Convene_Consultation_V1_GetConsultationAccountRequest,
                                                              Convene_Consultation_V1_ConsultationAccount>(service: service, method: "GetConsultationAccount")
    }

    public enum Briefing {
        static let service = "convene.briefing.v1.Briefing"
        public static let listReports = HostMethod<Convene_Briefing_V1_ListReportsRequest, Convene_Briefing_V1_ListReportsResponse>(
            service: service, method: "ListReports")
    }
}
