import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf

/// Meetings: who is invited, convening, holding, statements (II.A-II.D, II.B.3-II.B.6, I.B.2).
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
                $0.excluded = proposal.excluded.map { exclusion in
                    .with {
                        $0.partyID = PublicID.party.format(exclusion.partyID)
                        $0.partyName = names[exclusion.partyID] ?? ""
                        $0.reason = exclusion.reason
                    }
                }
            }
        }
    }

    public func conveneMeeting(_ request: Convene_Consultation_V1_ConveneMeetingRequest,
                               context: ServerCallContext) async throws -> Convene_Consultation_V1_Meeting {
        let caller = try await backend.caller(context)
        let form = try meetingForm(request.form)
        try MeetingRules.checkMayConvene(caller, form: form)
        try MeetingRules.checkInformalPaper(form: form, agenda: request.hasInformalPaper ? request.informalPaper.agenda : nil,
                                            issues: request.informalPaper.issues)
        let details = try MeetingDetails(request)
        try MeetingRules.checkMissionOfficials(form: form, named: !details.missionOfficials.isEmpty)
        try MeetingRules.checkPublic(form: form, isPublic: request.public)
        let pastReason = try MeetingRules.checkScheduledTime(details.scheduledAt, now: backend.now, pastReason: details.pastReason)
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let operationID = operation.id!
            try MeetingRules.checkOperationOpen(phase: operation.phase, form: form, recordedAfterTheFact: pastReason != nil,
                                                operationID: request.operationID)
            let answered = try details.requestID.map {
                try db.requireRequest($0, text: request.requestID, operation: operation, caller: caller)
            }
            if let answered { try MeetingRules.checkAnswers(answered.facts(id: request.requestID), form: form) }
            try MeetingRules.checkOccasion(form: form, stage: details.stage, answersRequest: answered != nil)
            let recordedOverride = try MeetingRules.checkSummariesCirculated(
                form: form, scheduledAt: details.scheduledAt, earlier: try db.earlierMeetings(operationID: operationID),
                caller: caller, overrideReason: details.overrideReason)
            let (reportID, flags) = try db.reportOrder(details.reportID, text: request.reportID, operation: operation, form: form,
                                                       scheduledAt: details.scheduledAt)
            let lateReason = try BriefingRules.checkLateReason(flags: flags, reason: details.lateReason, action: "convene")
            let invitations = try db.invitations(form: form, operation: operation,
                                                 including: [caller.id] + (answered.map { [$0.requestedBy] } ?? []),
                                                 adding: details.additionalInvitees, operationID: request.operationID)
            var record = MeetingRecord(
                operationID: operationID, form: form, isPublic: request.public, stage: details.stage, requestID: answered?.id,
                scheduledAt: details.scheduledAt, convenedBy: caller.id,
                topics: details.topics + (answered.map(Self.concernTopics) ?? []),
                paper: try details.paper.map { try db.withPlanningLessons($0, stage: details.stage) },
                missionOfficials: details.missionOfficials, summaryOverrideReason: recordedOverride, createdAt: backend.now)
            record.pastReason = pastReason
            record.reportID = reportID
            record.flags = flags
            record.lateReason = lateReason
            let meeting = try db.insert(record)
            let meetingID = meeting.id!
            for invitation in invitations { try db.insert(InvitationRecord(meetingID: meetingID, invitation: invitation)) }
            if var answered {
                answered.status = .convenedAsRequested
                answered.meetingID = meetingID
                try db.update(answered)
            }
            let occasion = details.stage.map { " at stage \($0.provision)" } ?? (answered.map { " at request \(PublicID.request.format($0.id))" } ?? "")
            events.append(backend.event(operationID, .meetingConvened, subject: PublicID.meeting.format(meetingID),
                                        "\(form.name) convened" + occasion + (pastReason == nil ? "" : ", recorded after the fact"),
                                        audience: .meeting(meetingID)))
            return try meetingProto(try db.meeting(id: meetingID)!, viewer: caller, db: db)
        }
    }

    /// II.B.4(d): the concerns of the request a meeting is convened at are topics of that meeting.
    static func concernTopics(_ request: MeetingRequestRecord) -> [TopicRecord] {
        RequestRules.concernTopics(request.concerns).map {
            TopicRecord(kind: TopicKind.contributorConcerns.rawValue, description: $0, raisedByPartyID: request.requestedBy,
                        requestID: request.id)
        }
    }

    public func getMeeting(_ request: Convene_Consultation_V1_GetMeetingRequest,
                           context: ServerCallContext) async throws -> Convene_Consultation_V1_Meeting {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            try meetingProto(try db.requireVisibleMeeting(request.meetingID, caller: caller), viewer: caller, db: db)
        }
    }

    public func listMeetings(_ request: Convene_Consultation_V1_ListMeetingsRequest,
                             context: ServerCallContext) async throws -> Convene_Consultation_V1_ListMeetingsResponse {
        let caller = try await backend.caller(context)
        let size = try PageToken.size(request.pageSize)
        let before = request.pageToken.isEmpty ? Int64.max : try PageToken.after(request.pageToken)
        return try await backend.read { db in
            let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
            // Invited in a category held by a role the caller no longer holds is not invited (maySeeMeeting).
            let viewer = MeetingRules.seesEveryMeeting(caller) ? nil
                : (partyID: caller.id, notCounting: InvitationCategory.heldByRole.filter { !$0.isHeld(by: caller) }.map(\.rawValue))
            let meetings = try db.meetings(operationID: operationID, visibleTo: viewer, beforeID: before, limit: size)
            return try .with {
                $0.meetings = try meetings.map { try meetingProto($0, viewer: caller, db: db) }
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
                                                scheduledAt: meeting.scheduledAt, now: backend.now, meetingID: request.meetingID)
            let earlier = try db.earlierMeetings(operationID: meeting.operationID).filter { $0.id != request.meetingID }
            try MeetingRules.checkSummariesCirculatedBeforeHeld(
                form: meeting.form, scheduledAt: meeting.scheduledAt, earlier: earlier,
                overridden: meeting.summaryOverrideReason != nil, meetingID: request.meetingID)
            meeting.flags += MeetingRules.lateSummaryFlags(form: meeting.form, scheduledAt: meeting.scheduledAt, earlier: earlier,
                                                           overridden: meeting.summaryOverrideReason != nil)
            meeting.status = .held
            try db.update(meeting)
            events.append(backend.event(meeting.operationID, .meetingHeld, subject: request.meetingID, "meeting held",
                                        audience: .meeting(meeting.id!)))
            return try meetingProto(meeting, viewer: caller, db: db)
        }
    }

    public func recordStatement(_ request: Convene_Consultation_V1_RecordStatementRequest,
                                context: ServerCallContext) async throws -> Convene_Consultation_V1_Statement {
        let caller = try await backend.caller(context)
        let text = try requireText(request.text, field: "text")
        return try await backend.write { [backend] db, events in
            let meeting = try db.requireVisibleMeeting(request.meetingID, caller: caller)
            let invitation = try db.invitation(meetingID: meeting.id!, partyID: caller.id)
            try MeetingRules.checkMayMakeStatement(caller, role: invitation.flatMap { ParticipationRole(rawValue: $0.role) },
                                                   category: invitation.flatMap { InvitationCategory(rawValue: $0.category) })
            try MeetingRules.checkStatementsOpen(summary: try db.summary(meetingID: meeting.id!)?.status ?? .notPrepared,
                                                 meetingID: request.meetingID)
            if request.concern {
                try MeetingRules.checkMayVoiceConcern(category: invitation.flatMap { InvitationCategory(rawValue: $0.category) })
            }
            let statement = try db.insert(StatementRecord(meetingID: meeting.id!, partyID: caller.id, text: text,
                                                          concern: request.concern, createdAt: backend.now))
            events.append(backend.event(meeting.operationID, request.concern ? .concernRaised : .statementRecorded,
                                        subject: PublicID.statement.format(statement.id), "\(caller.name) spoke",
                                        audience: .meeting(meeting.id!)))
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
            guard var statement = try db.statement(id: id) else { throw PublicID.statement.notFound(request.statementID) }
            let meeting = try db.requireVisibleMeeting(PublicID.meeting.format(statement.meetingID), caller: caller)
            try OperationRules.checkIsConcern(statement.concern, statementID: request.statementID)
            try OperationRules.checkNotAnswered(statement.response, statementID: request.statementID)
            statement.response = response
            statement.respondedBy = caller.id
            try db.update(statement)
            events.append(backend.event(meeting.operationID, .concernAnswered, subject: request.statementID,
                                        "concern answered by \(caller.name)", audience: .meeting(meeting.id!)))
            return statement.proto
        }
    }
}

extension StoreReader {
    /// The request `id` for a meeting on `operation`: NOT_FOUND when the caller may not see it, and
    /// FAILED_PRECONDITION naming its operation when it is another's.
    func requireRequest(_ id: Int64, text: String, operation: OperationRecord, caller: Party) throws -> MeetingRequestRecord {
        guard let found = try request(id: id), RequestRules.visible(caller, requestedBy: found.requestedBy) else {
            throw PublicID.request.notFound(text)
        }
        guard found.operationID == operation.id else {
            throw RPCError(.failedPrecondition,
                "request_id: \(text) asks for a meeting on operation \(PublicID.operation.format(found.operationID)), not on \(PublicID.operation.format(operation.id))")
        }
        return found
    }

    /// II.B.3: a meeting's invitations, from the operation's data, with the optional ones the convener adds.
    func invitations(form: MeetingForm, operation: OperationRecord, including: [Int64], adding additional: [(id: Int64, text: String)],
                     operationID: String) throws -> [ProposedInvitation] {
        let parties = try allParties()
        let proposal = InvitationRules.propose(form: form, facts: try facts(of: operation), parties: parties.map(\.party))
        return try InvitationRules.choose(proposal, including: including, additional: additional,
                                          isParty: { id in parties.contains { $0.id == id } }, operationID: operationID)
    }

    /// The operation's meetings as the II.B.6 rule sees them.
    func earlierMeetings(operationID: Int64) throws -> [MeetingRules.EarlierMeeting] {
        try meetings(operationID: operationID).map { meeting in
            let summary = try summary(meetingID: meeting.id!)
            return MeetingRules.EarlierMeeting(id: PublicID.meeting.format(meeting.id), form: meeting.form, scheduledAt: meeting.scheduledAt,
                                               summary: summary?.status ?? .notPrepared, circulatedAt: summary?.circulatedAt)
        }
    }

    /// II.B.5(b): the report a meeting discusses, and the order rules its time breaks against the
    /// operation's other meetings on that report (Council-requested reports only).
    func reportOrder(_ reportID: Int64?, text: String, operation: OperationRecord, form: MeetingForm,
                     scheduledAt: Int64) throws -> (Int64?, [String]) {
        guard let reportID else { return (nil, []) }
        guard let report = try report(id: reportID) else {
            throw RPCError(.notFound, "report_id: no report \(text)")
        }
        guard report.operationID == operation.id else {
            throw RPCError(.failedPrecondition,
                "report_id: \(text) is a report on operation \(PublicID.operation.format(report.operationID)), not on \(PublicID.operation.format(operation.id))")
        }
        guard report.requestedByCouncil else { return (reportID, []) }
        // The meetings on the report: those that name it, and the contributors' meeting it was
        // distributed to (DistributeReport links them too: a Council discussion convened on
        // the report after its distribution, before that meeting, went unflagged).
        let others = try meetings(operationID: operation.id!).filter { $0.reportID == reportID || $0.id == report.meetingID }.map {
            MeetingRules.ScheduledDiscussion(id: PublicID.meeting.format($0.id), form: $0.form, scheduledAt: $0.scheduledAt)
        }
        return (reportID, MeetingRules.orderFlags(form: form, scheduledAt: scheduledAt, reportID: text, others: others))
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
