import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf
import Foundation

extension ConsultationService {
    func registerMeetings(with router: Router) throws {
        typealias M = ConsultationMethods

        try router.registerAsyncUnary(M.proposeInvitations) {
            (request: Convene_Consultation_V1_ProposeInvitationsRequest, context, _) -> Convene_Consultation_V1_ProposeInvitationsResponse in
            let caller = try await caller(context)
            let form = try meetingForm(request.form)
            try MeetingRules.checkMayConvene(caller, form: form)
            return try await store.read { db in
                let operation = try db.requireOperation(request.operationID)
                let parties = try db.allParties()
                let names = Dictionary(uniqueKeysWithValues: parties.map { ($0.id!, $0.name) })
                let proposal = InvitationRules.propose(form: form, facts: try operationFacts(operation, db: db),
                                                       parties: parties.map(\.party))
                return .with {
                    $0.required = proposal.required.map { invitationProto(InvitationRecord(meetingID: 0, invitation: $0), name: names[$0.partyID] ?? "") }
                    $0.optional = proposal.optional.map { invitationProto(InvitationRecord(meetingID: 0, invitation: $0), name: names[$0.partyID] ?? "") }
                }
            }
        }

        try router.registerAsyncUnary(M.conveneMeeting) {
            (request: Convene_Consultation_V1_ConveneMeetingRequest, context, _) -> Convene_Consultation_V1_Meeting in
            let caller = try await caller(context)
            let form = try meetingForm(request.form)
            try MeetingRules.checkMayConvene(caller, form: form)
            try MeetingRules.checkInformalPaper(form: form, agenda: request.hasInformalPaper ? request.informalPaper.agenda : nil)
            try require(request.hasScheduledTime && request.scheduledTime.millis > 0, .invalidArgument, "scheduled_time: required")
            let stage = Stage(rawValue: request.stage.rawValue)
            let topics = try request.topics.map { topic -> TopicRecord in
                guard TopicKind(rawValue: topic.kind.rawValue) != nil else {
                    throw RPCError(.invalidArgument, "topics: each topic needs a kind of II.B.4(a)-(e)")
                }
                let raisedBy = topic.raisedByPartyID.isEmpty ? nil : try PublicID.party.parse(topic.raisedByPartyID, field: "topics.raised_by_party_id")
                return TopicRecord(kind: topic.kind.rawValue, description: topic.description_p, raisedByPartyID: raisedBy)
            }
            let paper = request.hasInformalPaper ? PaperRecord(
                agenda: request.informalPaper.agenda, issues: request.informalPaper.issues,
                backgroundDocuments: request.informalPaper.backgroundDocuments.map {
                    DocumentRecord(title: $0.title, reference: $0.reference, lessonID: nil)
                }) : nil
            let officials = request.missionOfficials.map(\.rawValue)
            try require(officials.isEmpty || form == .secretariatMeeting, .invalidArgument,
                        "mission_officials: the SRSG, Force Commander and Police Commissioner join II.C meetings (II.C)")
            let override = request.summaryOverrideReason.trimmingCharacters(in: .whitespacesAndNewlines)

            return try await write { db, events in
                let operation = try db.requireOperation(request.operationID)
                let operationID = operation.id!
                try require(operation.phase != Phase.terminated.rawValue, .failedPrecondition,
                            "operation \(request.operationID) is terminated")
                // The reason a II.B meeting is held: a stage, or a contributor's request (II.B.2).
                var answered: MeetingRequestRecord?
                if !request.requestID.isEmpty {
                    let requestID = try PublicID.request.parse(request.requestID, field: "request_id")
                    guard let found = try db.request(id: requestID), found.operationID == operationID else {
                        throw PublicID.request.notFound(request.requestID)
                    }
                    try require(found.status == 1, .failedPrecondition, "request \(request.requestID) is no longer pending")
                    try require(found.form == form.rawValue, .failedPrecondition,
                                "request \(request.requestID) asks for a \(MeetingForm(rawValue: found.form)?.provision ?? "?") meeting, not \(form.provision)")
                    answered = found
                }
                if form == .consultationMeeting {
                    try require(stage != nil || answered != nil, .invalidArgument,
                                "stage: a consultation meeting is held at a stage of II.B.2(a)-(g) or at a contributor's request (request_id)")
                }
                // II.B.6: Council discussion waits for the summaries of earlier contributors' meetings.
                let earlier = try db.meetings(operationID: operationID).map { m in
                    MeetingRules.EarlierMeeting(id: PublicID.meeting.format(m.id), form: MeetingForm(rawValue: m.form) ?? .otherConsultation,
                                                scheduledAt: m.scheduledAt,
                                                summary: SummaryStatus(rawValue: try db.summary(meetingID: m.id!)?.status ?? 1) ?? .notPrepared)
                }
                try MeetingRules.checkSummariesCirculated(form: form, scheduledAt: request.scheduledTime.millis, earlier: earlier,
                                                          caller: caller, overrideReason: override.isEmpty ? nil : override)
                // II.B.3: the invitation list comes from the operation's data.
                let parties = try db.allParties()
                let proposal = InvitationRules.propose(form: form, facts: try operationFacts(operation, db: db),
                                                       parties: parties.map(\.party))
                var invitations = proposal.required
                for invitee in request.additionalInviteeIds {
                    let partyID = try PublicID.party.parse(invitee, field: "additional_invitee_ids")
                    guard let offer = proposal.optional.first(where: { $0.partyID == partyID }) else {
                        if invitations.contains(where: { $0.partyID == partyID }) { continue }
                        guard try db.party(id: partyID) != nil else { throw PublicID.party.notFound(invitee) }
                        throw RPCError(.failedPrecondition,
                            "additional_invitee_ids: \(invitee) falls in no II.B.3 category for operation \(request.operationID)")
                    }
                    invitations.append(offer)
                }
                // II.B.2(a), I.B.3: a mission-planning meeting gets the relevant lessons in its background documents.
                var paper = paper
                if stage == .missionPlanning, var planned = paper {
                    let text = ([planned.agenda] + planned.issues).joined(separator: " ")
                    for lesson in try db.lessons().filter({ LessonRules.isRelevantToPlanning(stage: $0.stage, topics: $0.topics, paperText: text) }).prefix(20) {
                        planned.backgroundDocuments.append(DocumentRecord(title: "Lesson: " + lesson.finding,
                            reference: lesson.recommendation, lessonID: lesson.id))
                    }
                    paper = planned
                }
                let councilDiscussion = form.isCouncilDiscussion && !earlier.filter { $0.form == .consultationMeeting && $0.summary != .circulated && $0.scheduledAt <= request.scheduledTime.millis }.isEmpty
                var meeting = try db.insert(MeetingRecord(
                    operationID: operationID, form: form, isPublic: request.public,
                    stage: stage, requestID: answered?.id, scheduledAt: request.scheduledTime.millis, convenedBy: caller.id,
                    topics: topics, paper: paper, missionOfficials: officials,
                    summaryOverrideReason: councilDiscussion && !override.isEmpty ? override : nil,
                    createdAt: Clock.nowMillis()))
                let meetingID = meeting.id!
                for invitation in invitations { try db.insert(InvitationRecord(meetingID: meetingID, invitation: invitation)) }
                if var answered {
                    answered.status = 2
                    answered.meetingID = meetingID
                    try db.update(answered)
                }
                meeting = try db.meeting(id: meetingID)!
                events.append(event(operationID, "meeting.convened", subject: PublicID.meeting.format(meetingID),
                                    "\(form.provision) meeting convened" + (stage.map { " at stage \($0.provision)" } ?? ""),
                                    meetingID: meetingID))
                return try meetingProto(meeting, db: db)
            }
        }

        try router.registerAsyncUnary(M.getMeeting) {
            (request: Convene_Consultation_V1_GetMeetingRequest, context, _) -> Convene_Consultation_V1_Meeting in
            let caller = try await caller(context)
            return try await store.read { db in
                try meetingProto(try db.requireVisibleMeeting(request.meetingID, caller: caller), db: db)
            }
        }

        try router.registerAsyncUnary(M.listMeetings) {
            (request: Convene_Consultation_V1_ListMeetingsRequest, context, _) -> Convene_Consultation_V1_ListMeetingsResponse in
            let caller = try await caller(context)
            let size = try PageToken.size(request.pageSize)
            let before = request.pageToken.isEmpty ? Int64.max : try PageToken.after(request.pageToken)
            return try await store.read { db in
                let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
                let seesAll = caller.isPresident || caller.isSecretariat
                let meetings = try db.meetings(operationID: operationID, visibleTo: seesAll ? nil : caller.id,
                                               beforeID: before, limit: size)
                return try .with {
                    $0.meetings = try meetings.map { try meetingProto($0, db: db) }
                    if meetings.count == size, let last = meetings.last?.id { $0.nextPageToken = String(last) }
                }
            }
        }

        try router.registerAsyncUnary(M.markMeetingHeld) {
            (request: Convene_Consultation_V1_MarkMeetingHeldRequest, context, _) -> Convene_Consultation_V1_Meeting in
            let caller = try await caller(context)
            return try await write { db, events in
                var meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                try require(meeting.convenedBy == caller.id || (caller.isPresident && meeting.form != MeetingForm.secretariatMeeting.rawValue),
                            .permissionDenied, "only the meeting's convener records that it was held")
                try require(meeting.status == MeetingStatus.convened.rawValue, .failedPrecondition,
                            "meeting \(request.meetingID) is already recorded as held")
                meeting.status = MeetingStatus.held.rawValue
                try db.update(meeting)
                events.append(event(meeting.operationID, "meeting.held", subject: request.meetingID, "meeting held",
                                    meetingID: meeting.id))
                return try meetingProto(meeting, db: db)
            }
        }

        try router.registerAsyncUnary(M.recordStatement) {
            (request: Convene_Consultation_V1_RecordStatementRequest, context, _) -> Convene_Consultation_V1_Statement in
            let caller = try await caller(context)
            let text = try requireText(request.text, field: "text")
            return try await write { db, events in
                let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
                let invitation = try db.invitation(meetingID: meeting.id!, partyID: caller.id)
                try MeetingRules.checkMayMakeStatement(role: invitation.flatMap { ParticipationRole(rawValue: $0.role) },
                                                       category: invitation.flatMap { InvitationCategory(rawValue: $0.category) })
                let statement = try db.insert(StatementRecord(meetingID: meeting.id!, partyID: caller.id, text: text,
                                                              concern: request.concern, createdAt: Clock.nowMillis()))
                events.append(event(meeting.operationID, request.concern ? "concern.raised" : "statement.recorded",
                                    subject: PublicID.statement.format(statement.id), "\(caller.name) spoke",
                                    meetingID: meeting.id))
                return statement.proto
            }
        }

        try router.registerAsyncUnary(M.respondToConcern) {
            (request: Convene_Consultation_V1_RespondToConcernRequest, context, _) -> Convene_Consultation_V1_Statement in
            let caller = try await caller(context)
            try require(caller.isSecretariat || caller.isPresident, .permissionDenied,
                        "the Secretariat or the Council President answers concerns (I.B.2)")
            let response = try requireText(request.response, field: "response")
            return try await write { db, events in
                let id = try PublicID.statement.parse(request.statementID, field: "statement_id")
                guard var statement = try db.statement(id: id),
                      let meeting = try db.meeting(id: statement.meetingID) else {
                    throw PublicID.statement.notFound(request.statementID)
                }
                try require(statement.concern, .failedPrecondition, "statement \(request.statementID) does not voice a concern")
                statement.response = response
                statement.respondedBy = caller.id
                try db.update(statement)
                events.append(event(meeting.operationID, "concern.answered", subject: request.statementID,
                                    "concern answered by \(caller.name)", meetingID: meeting.id))
                return statement.proto
            }
        }
    }
}

func meetingForm(_ form: Convene_Consultation_V1_MeetingForm) throws -> MeetingForm {
    guard let domain = MeetingForm(rawValue: form.rawValue) else {
        throw RPCError(.invalidArgument, "form: a meeting form is required (COUNCIL_MEETING, CONSULTATION_MEETING, ...)")
    }
    return domain
}

enum TopicKind: Int {
    case mandatePreparation = 1, operationalIssues, sgConcerns, contributorConcerns, missionProgress
}
