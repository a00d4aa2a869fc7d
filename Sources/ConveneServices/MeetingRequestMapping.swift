import ConveneDomain
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// A ConveneMeetingRequest's fields, checked and in the store's terms (all but the form and
/// the informal paper's agenda, whose rules come first).
struct MeetingDetails {
    var stage: Stage?
    var scheduledAt: Int64
    var topics: [TopicRecord]
    var paper: PaperRecord?
    var missionOfficials: [Int]
    var overrideReason: String?
    var pastReason: String?
    var lateReason: String?
    var reportID: Int64?
    var requestID: Int64?
    var additionalInvitees: [(id: Int64, text: String)]

    init(_ request: Convene_Consultation_V1_ConveneMeetingRequest) throws {
        scheduledAt = try request.scheduledTime.requiredMillis(field: "scheduled_time", present: request.hasScheduledTime)
        try request.stage.checkKnown(field: "stage")
        stage = Stage(rawValue: request.stage.rawValue)
        try checkList(request.topics.map(\.description_p), field: "topics.description", maxCount: 100, maxEach: 10_000)
        topics = try request.topics.map { topic in
            guard TopicKind(rawValue: topic.kind.rawValue) != nil else {
                throw RPCError(.invalidArgument, "topics: each topic needs a kind of II.B.4(a)-(e)")
            }
            let raisedBy = topic.raisedByPartyID.isEmpty
                ? nil : try PublicID.party.parse(topic.raisedByPartyID, field: "topics.raised_by_party_id")
            return TopicRecord(kind: topic.kind.rawValue, description: topic.description_p, raisedByPartyID: raisedBy)
        }
        try checkList(request.informalPaper.issues, field: "informal_paper.issues", maxCount: 100, maxEach: 10_000)
        let documents = request.informalPaper.backgroundDocuments
        try require(documents.count <= 100, .invalidArgument, "informal_paper.background_documents: at most 100 entries, not \(documents.count)")
        for (index, document) in documents.enumerated() {
            try checkList([document.title], field: "informal_paper.background_documents[\(index)].title", maxCount: 1, maxEach: 10_000)
            try checkList([document.reference], field: "informal_paper.background_documents[\(index)].reference", maxCount: 1, maxEach: 10_000)
        }
        guard request.informalPaper.agenda.utf8.count <= 100_000 else {
            throw RPCError(.invalidArgument, "informal_paper.agenda: longer than 100000 bytes")
        }
        paper = request.hasInformalPaper ? PaperRecord(
            agenda: request.informalPaper.agenda, issues: request.informalPaper.issues,
            backgroundDocuments: request.informalPaper.backgroundDocuments.map {
                DocumentRecord(title: $0.title, reference: $0.reference, lessonID: nil)
            }) : nil
        for official in request.missionOfficials {
            try official.checkKnown(field: "mission_officials")
            try require(official != .unspecified, .invalidArgument, "mission_officials: MISSION_OFFICIAL_UNSPECIFIED names no official")
        }
        missionOfficials = request.missionOfficials.map(\.rawValue)
        if let twice = request.missionOfficials.enumerated().first(where: { request.missionOfficials[..<$0.offset].contains($0.element) }) {
            let name = switch twice.element {
            case .specialRepresentative: "SPECIAL_REPRESENTATIVE"
            case .forceCommander: "FORCE_COMMANDER"
            case .policeCommissioner: "POLICE_COMMISSIONER"
            default: "\(twice.element.rawValue)"
            }
            throw RPCError(.invalidArgument, "mission_officials: each official is named once; \(name) is named twice")
        }
        overrideReason = try optionalReason(request.summaryOverrideReason, field: "summary_override_reason")
        pastReason = try optionalReason(request.pastMeetingReason, field: "past_meeting_reason")
        lateReason = try optionalReason(request.lateReason, field: "late_reason")
        reportID = request.reportID.isEmpty ? nil : try PublicID.report.parse(request.reportID, field: "report_id")
        requestID = request.requestID.isEmpty ? nil : try PublicID.request.parse(request.requestID, field: "request_id")
        additionalInvitees = try request.additionalInviteeIds.map {
            (try PublicID.party.parse($0, field: "additional_invitee_ids"), $0)
        }
        if let twice = additionalInvitees.enumerated().first(where: { item in additionalInvitees[..<item.offset].contains { $0.id == item.element.id } }) {
            throw RPCError(.invalidArgument, "additional_invitee_ids: \(twice.element.text) is named twice")
        }
    }
}

func meetingForm(_ form: Convene_Consultation_V1_MeetingForm) throws -> MeetingForm {
    guard form != .unspecified else {
        throw RPCError(.invalidArgument, "form: a meeting form is required (COUNCIL_MEETING, CONSULTATION_MEETING, ...)")
    }
    guard let domain = MeetingForm(rawValue: form.rawValue) else {
        throw RPCError(.invalidArgument, "form: unknown value \(form.rawValue)")
    }
    return domain
}

/// II.B.4(a)-(e): what a meeting discusses.
enum TopicKind: Int {
    case mandatePreparation = 1, operationalIssues, sgConcerns, contributorConcerns, missionProgress
}

import Foundation
