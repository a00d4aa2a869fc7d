import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Foundation
import SwiftProtobuf

extension ConsultationService {
    func registerRequests(with router: Router) throws {
        typealias M = ConsultationMethods

        try router.registerAsyncUnary(M.requestMeeting) {
            (request: Convene_Consultation_V1_RequestMeetingRequest, context, _) -> Convene_Consultation_V1_MeetingRequest in
            let caller = try await caller(context)
            let form = try meetingForm(request.form)
            let reason = try requireText(request.reason, field: "reason")
            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                try MeetingRules.checkMayRequest(caller, facts: try operationFacts(operation, db: db),
                                                 operationID: request.operationID, form: form)
                let record = try db.insert(MeetingRequestRecord(operationID: operation.id!, requestedBy: caller.id, form: form,
                                                                reason: reason, concerns: request.concerns,
                                                                createdAt: Clock.nowMillis()))
                events.append(event(operation.id!, "meeting.requested", subject: PublicID.request.format(record.id),
                                    "\(caller.name) requests a \(form.provision) meeting (II.A.1, II.B.2)"))
                return record.proto
            }
        }

        try router.registerAsyncUnary(M.listMeetingRequests) {
            (request: Convene_Consultation_V1_ListMeetingRequestsRequest, context, _) -> Convene_Consultation_V1_ListMeetingRequestsResponse in
            let caller = try await caller(context)
            return try await store.read { db in
                let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
                let status = request.status == .unspecified ? nil : request.status.rawValue
                // The President and the Secretariat see every request; a contributor its own.
                let all = try db.requests(operationID: operationID, status: status)
                let visible = caller.isPresident || caller.isSecretariat ? all : all.filter { $0.requestedBy == caller.id }
                return .with { $0.requests = visible.map(\.proto) }
            }
        }

        try router.registerAsyncUnary(M.declineMeetingRequest) {
            (request: Convene_Consultation_V1_DeclineMeetingRequestRequest, context, _) -> Convene_Consultation_V1_MeetingRequest in
            let caller = try await caller(context)
            try require(caller.isPresident, .permissionDenied,
                        "only the Council President decides on requests for meetings (II.B.1)")
            let reason = try requireText(request.reason, field: "reason")
            return try await write { db, events in
                let id = try PublicID.request.parse(request.requestID, field: "request_id")
                guard var record = try db.request(id: id) else { throw PublicID.request.notFound(request.requestID) }
                try require(record.status == 1, .failedPrecondition, "request \(request.requestID) is no longer pending")
                record.status = 3
                record.declineReason = reason
                try db.update(record)
                events.append(event(record.operationID, "meeting.request_declined", subject: request.requestID,
                                    "declined: \(reason)"))
                return record.proto
            }
        }
    }

    func registerSummaries(with router: Router) throws {
        typealias M = ConsultationMethods

        try router.registerAsyncUnary(M.prepareSummary) {
            (request: Convene_Consultation_V1_PrepareSummaryRequest, context, _) -> Convene_Consultation_V1_Summary in
            let caller = try await caller(context)
            try MeetingRules.checkMayPrepareSummary(caller)
            let text = try requireText(request.text, field: "text")
            return try await write { db, events in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                try require(meeting.form == MeetingForm.consultationMeeting.rawValue, .failedPrecondition,
                            "summaries are prepared for consultation meetings with contributors (II.B.6)")
                try require(meeting.status == MeetingStatus.held.rawValue, .failedPrecondition,
                            "meeting \(request.meetingID) has not been held yet")
                if let existing = try db.summary(meetingID: meeting.id!) {
                    try require(existing.status != SummaryStatus.circulated.rawValue, .failedPrecondition,
                                "the summary of \(request.meetingID) was already circulated")
                }
                let summary = SummaryRecord(meetingID: meeting.id!, text: text, preparedBy: caller.id, preparedAt: Clock.nowMillis())
                try db.save(summary)
                events.append(event(meeting.operationID, "summary.prepared", subject: request.meetingID,
                                    "summary prepared (II.B.6)", meetingID: meeting.id))
                return summary.proto
            }
        }

        try router.registerAsyncUnary(M.circulateSummary) {
            (request: Convene_Consultation_V1_CirculateSummaryRequest, context, _) -> Convene_Consultation_V1_Summary in
            let caller = try await caller(context)
            try MeetingRules.checkMayCirculateSummary(caller)
            return try await write { db, events in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                guard var summary = try db.summary(meetingID: meeting.id!) else {
                    throw RPCError(.failedPrecondition, "meeting \(request.meetingID) has no summary to circulate; prepare it first (II.B.6)")
                }
                try require(summary.status != SummaryStatus.circulated.rawValue, .failedPrecondition,
                            "the summary of \(request.meetingID) was already circulated")
                summary.status = SummaryStatus.circulated.rawValue
                summary.circulatedAt = Clock.nowMillis()
                try db.save(summary)
                events.append(event(meeting.operationID, "summary.circulated", subject: request.meetingID,
                                    "summary circulated to Council members (II.B.6)", meetingID: meeting.id))
                return summary.proto
            }
        }

        try router.registerAsyncUnary(M.getSummary) {
            (request: Convene_Consultation_V1_GetSummaryRequest, context, _) -> Convene_Consultation_V1_Summary in
            let caller = try await caller(context)
            try MeetingRules.checkMayReadSummary(caller)
            return try await store.read { db in
                let id = try PublicID.meeting.parse(request.meetingID, field: "meeting_id")
                guard try db.meeting(id: id) != nil else { throw PublicID.meeting.notFound(request.meetingID) }
                guard let summary = try db.summary(meetingID: id) else {
                    throw RPCError(.notFound, "meeting \(request.meetingID) has no summary yet")
                }
                // Council members receive a summary once it is circulated (II.B.6).
                if !caller.isPresident && !caller.isSecretariat {
                    try require(summary.status == SummaryStatus.circulated.rawValue, .notFound,
                                "meeting \(request.meetingID) has no circulated summary yet")
                }
                return summary.proto
            }
        }
    }
}
