import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Meetings: who is invited, convening, holding, statements (II.A-II.D, II.B.3, II.B.6, I.B.2).
extension ConsultationService {
    public func proposeInvitations(_ request: Convene_Consultation_V1_ProposeInvitationsRequest,
                                   context: ServerCallContext) async throws -> Convene_Consultation_V1_ProposeInvitationsResponse {
        let caller = try await backend.caller(context)
        let form = try meetingForm(request.form)
        try MeetingRules.checkMayConvene(caller, form: form)
        return try await backend.read { db in
            let operation = try db.requireOperation(request.operationID)
            let parties = try db.allParties()
            let names = Dictionary(uniqueKeysWithValues: parties.map { ($0.id!, $0.name) })
            let proposal = InvitationRules.propose(form: form, facts: try db.facts(of: operation), parties: parties.map(\.party))
            return .with {
                $0.required = proposal.required.map { invitationProto($0, name: names[$0.partyID] ?? "") }
                $0.optional = proposal.optional.map { invitationProto($0, name: names[$0.partyID] ?? "") }
            }
        }
    }

    public func conveneMeeting(_ request: Convene_Consultation_V1_ConveneMeetingRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_Meeting {
        let caller = try await backend.caller(context)
        let form = try meetingForm(request.form)
        try MeetingRules.checkMayConvene(caller, form: form)
        try MeetingRules.checkInformalPaper(form: form, agenda: request.hasInformalPaper ? request.informalPaper.agenda : nil)
        let details = try MeetingDetails(request)
        try MeetingRules.checkMissionOfficials(form: form, named: !details.missionOfficials.isEmpty)
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let operationID = operation.id!
            try MeetingRules.checkOperationOpen(phase: operation.phase, operationID: request.operationID)
            let answered = try details.requestID.map { try db.requireRequest($0, text: request.requestID, operationID: operationID) }
            if let answered { try MeetingRules.checkAnswers(answered.facts(id: request.requestID), form: form) }
            try MeetingRules.checkOccasion(form: form, stage: details.stage, answersRequest: answered != nil)
            let recordedOverride = try MeetingRules.checkSummariesCirculated(
                form: form, scheduledAt: details.scheduledAt, earlier: try db.earlierMeetings(operationID: operationID),
                caller: caller, overrideReason: details.overrideReason)
            let invitations = try db.invitations(form: form, operation: operation, adding: details.additionalInvitees,
                                                 operationID: request.operationID)
            let meeting = try db.insert(MeetingRecord(
                operationID: operationID, form: form, isPublic: request.public, stage: details.stage, requestID: answered?.id,
                scheduledAt: details.scheduledAt, convenedBy: caller.id, topics: details.topics,
                paper: try details.paper.map { try db.withPlanningLessons($0, stage: details.stage) },
                missionOfficials: details.missionOfficials, summaryOverrideReason: recordedOverride, createdAt: backend.now))
            let meetingID = meeting.id!
            for invitation in invitations { try db.insert(InvitationRecord(meetingID: meetingID, invitation: invitation)) }
            if var answered {
                answered.status = .convenedAsRequested
                answered.meetingID = meetingID
                try db.update(answered)
            }
            events.append(backend.event(operationID, "meeting.convened", subject: PublicID.meeting.format(meetingID),
                                        "\(form.provision) meeting convened" + (details.stage.map { " at stage \($0.provision)" } ?? ""),
                                        meetingID: meetingID))
            return try meetingProto(try db.meeting(id: meetingID)!, db: db)
        }
    }

    public func getMeeting(_ request: Convene_Consultation_V1_GetMeetingRequest,
                           context: ServerCallContext) async throws -> Convene_Consultation_V1_Meeting {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            try meetingProto(try db.requireVisibleMeeting(request.meetingID, caller: caller), db: db)
        }
    }

    public func listMeetings(_ request: Convene_Consultation_V1_ListMeetingsRequest,
                             context: ServerCallContext) async throws -> Convene_Consultation_V1_ListMeetingsResponse {
        let caller = try await backend.caller(context)
        let size = try PageToken.size(request.pageSize)
        let before = request.pageToken.isEmpty ? Int64.max : try PageToken.after(request.pageToken)
        return try await backend.read { db in
            let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
            let meetings = try db.meetings(operationID: operationID, visibleTo: MeetingRules.seesEveryMeeting(caller) ? nil : caller.id,
                                           beforeID: before, limit: size)
            return try .with {
                $0.meetings = try meetings.map { try meetingProto($0, db: db) }
                $0.nextPageToken = PageToken.next(after: meetings.last?.id, count: meetings.count, size: size)
            }
        }
    }

    public func markMeetingHeld(_ request: Convene_Consultation_V1_MarkMeetingHeldRequest,
                                context: ServerCallContext) async throws -> Convene_Consultation_V1_Meeting {
        let caller = try await backend.caller(context)
        return try await backend.write { [backend] db, events in
            var meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            try MeetingRules.checkMayRecordHeld(caller, convenedBy: meeting.convenedBy, form: meeting.form, status: meeting.status,
                                                meetingID: request.meetingID)
            meeting.status = .held
            try db.update(meeting)
            events.append(backend.event(meeting.operationID, "meeting.held", subject: request.meetingID, "meeting held",
                                        meetingID: meeting.id))
            return try meetingProto(meeting, db: db)
        }
    }

    public func recordStatement(_ request: Convene_Consultation_V1_RecordStatementRequest,
                                context: ServerCallContext) async throws -> Convene_Consultation_V1_Statement {
        let caller = try await backend.caller(context)
        let text = try requireText(request.text, field: "text")
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            let invitation = try db.invitation(meetingID: meeting.id!, partyID: caller.id)
            try MeetingRules.checkMayMakeStatement(role: invitation.flatMap { ParticipationRole(rawValue: $0.role) },
                                                   category: invitation.flatMap { InvitationCategory(rawValue: $0.category) })
            let statement = try db.insert(StatementRecord(meetingID: meeting.id!, partyID: caller.id, text: text,
                                                          concern: request.concern, createdAt: backend.now))
            events.append(backend.event(meeting.operationID, request.concern ? "concern.raised" : "statement.recorded",
                                        subject: PublicID.statement.format(statement.id), "\(caller.name) spoke",
                                        meetingID: meeting.id))
            return statement.proto
        }
    }

    public func respondToConcern(_ request: Convene_Consultation_V1_RespondToConcernRequest,
                                 context: ServerCallContext) async throws -> Convene_Consultation_V1_Statement {
        let caller = try await backend.caller(context)
        try OperationRules.checkMayAnswerConcerns(caller)
        let response = try requireText(request.response, field: "response")
        return try await backend.write { [backend] db, events in
            let id = try PublicID.statement.parse(request.statementID, field: "statement_id")
            guard var statement = try db.statement(id: id), let meeting = try db.meeting(id: statement.meetingID) else {
                throw PublicID.statement.notFound(request.statementID)
            }
            try OperationRules.checkIsConcern(statement.concern, statementID: request.statementID)
            statement.response = response
            statement.respondedBy = caller.id
            try db.update(statement)
            events.append(backend.event(meeting.operationID, "concern.answered", subject: request.statementID,
                                        "concern answered by \(caller.name)", meetingID: meeting.id))
            return statement.proto
        }
    }
}

extension StoreReader {
    /// The request `id` of `operationID`; NOT_FOUND naming `text` otherwise.
    func requireRequest(_ id: Int64, text: String, operationID: Int64) throws -> MeetingRequestRecord {
        guard let found = try request(id: id), found.operationID == operationID else { throw PublicID.request.notFound(text) }
        return found
    }

    /// II.B.3: a meeting's invitations, from the operation's data, with the optional ones the convener adds.
    func invitations(form: MeetingForm, operation: OperationRecord, adding additional: [(id: Int64, text: String)],
                     operationID: String) throws -> [ProposedInvitation] {
        let parties = try allParties()
        let proposal = InvitationRules.propose(form: form, facts: try facts(of: operation), parties: parties.map(\.party))
        return try InvitationRules.choose(required: proposal.required, optional: proposal.optional, additional: additional,
                                          isParty: { id in parties.contains { $0.id == id } }, operationID: operationID)
    }

    /// The operation's meetings as the II.B.6 rule sees them.
    func earlierMeetings(operationID: Int64) throws -> [MeetingRules.EarlierMeeting] {
        try meetings(operationID: operationID).map { meeting in
            MeetingRules.EarlierMeeting(id: PublicID.meeting.format(meeting.id), form: meeting.form, scheduledAt: meeting.scheduledAt,
                                        summary: try summary(meetingID: meeting.id!)?.status ?? .notPrepared)
        }
    }

    /// II.B.2(a), I.B.3, I.A.7: a mission-planning meeting's paper gets the relevant lessons as background documents.
    func withPlanningLessons(_ paper: PaperRecord, stage: Stage?) throws -> PaperRecord {
        guard stage == .missionPlanning else { return paper }
        var planned = paper
        let text = ([paper.agenda] + paper.issues).joined(separator: " ")
        let relevant = try lessons().filter {
            LessonRules.isRelevantToPlanning(stage: Stage(rawValue: $0.stage), topics: $0.topics, paperText: text)
        }
        for lesson in relevant.prefix(LessonRules.planningLessonLimit) {
            planned.backgroundDocuments.append(DocumentRecord(title: "Lesson: " + lesson.finding, reference: lesson.recommendation,
                                                              lessonID: lesson.id))
        }
        return planned
    }
}

extension MeetingRequestRecord {
    /// What the rules read of it; `id` as the caller gave it, for messages.
    func facts(id: String) -> MeetingRequestFacts { MeetingRequestFacts(id: id, status: status, form: form) }
}
