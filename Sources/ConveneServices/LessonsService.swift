import ConveneDomain
import ConveneProtobuf
import ConveneProtos
import ConveneRPC
import ConveneStore
import Foundation
import SwiftProtobuf

/// Lessons learned: evaluation meetings, contingents' experience, lessons (I.B.3, I.B.4, I.A.7).
public struct LessonsService: LessonsServiceProtocol {
    let backend: Backend
    /// Longest experience text accepted.
    static let maxExperienceBytes = 16 * 1024 * 1024

    public init(backend: Backend) {
        self.backend = backend
    }

    public func conveneEvaluationMeeting(_ request: Convene_Lessons_V1_ConveneEvaluationMeetingRequest,
                                         context: ServerCallContext) async throws -> Convene_Lessons_V1_EvaluationMeeting {
        let caller = try await backend.caller(context)
        try MeetingRules.checkMayConvene(caller, form: .evaluation)
        let stage = try requireText(request.stage, field: "stage", max: 500)
        _ = try request.scheduledTime.requiredMillis(field: "scheduled_time", present: request.hasScheduledTime)
        let pastReason = try MeetingRules.checkScheduledTime(
            request.scheduledTime.millis, now: backend.now,
            pastReason: try optionalReason(request.pastMeetingReason, field: "past_meeting_reason"))
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            let proposal = InvitationRules.propose(form: .evaluation, facts: try db.facts(of: operation),
                                                   parties: try db.allParties().map(\.party))
            try MeetingRules.checkOperationOpen(phase: operation.phase, form: .evaluation, recordedAfterTheFact: pastReason != nil,
                                                operationID: request.operationID)
            var record = MeetingRecord(
                operationID: operation.id!, form: .evaluation, isPublic: false, stage: nil, requestID: nil,
                scheduledAt: request.scheduledTime.millis, convenedBy: caller.id,
                topics: [TopicRecord(kind: TopicKind.missionProgress.rawValue, description: "Evaluation: \(stage)", raisedByPartyID: nil)],
                paper: PaperRecord(agenda: request.agenda.isEmpty ? "Evaluation of \(stage)" : request.agenda, issues: [],
                                   backgroundDocuments: []),
                missionOfficials: [], summaryOverrideReason: nil, createdAt: backend.now)
            record.pastReason = pastReason
            let meeting = try db.insert(record)
            for invitation in proposal.required { try db.insert(InvitationRecord(meetingID: meeting.id!, invitation: invitation)) }
            events.append(backend.event(operation.id!, .meetingConvened, subject: PublicID.meeting.format(meeting.id),
                                        "\(MeetingForm.evaluation.name) convened: \(stage)" + (pastReason == nil ? "" : ", recorded after the fact"),
                                        audience: .meeting(meeting.id!)))
            return .with {
                $0.meetingID = PublicID.meeting.format(meeting.id)
                $0.operationID = request.operationID
                $0.stage = stage
                $0.invitedPartyIds = proposal.required.map { PublicID.party.format($0.partyID) }
            }
        }
    }

    /// I.B.4: a contributing country's contingents' experience, streamed in pieces after a header.
    public func submitExperience(_ requests: RequestMessages<Convene_Lessons_V1_ExperienceChunk>,
                                 context: ServerCallContext) async throws -> Convene_Lessons_V1_Experience {
        let caller = try await backend.participant(context)
        return try await backend.untilRevoked(caller) { [self] in try await receive(requests, caller: caller.party) }
    }

    func receive(_ requests: RequestMessages<Convene_Lessons_V1_ExperienceChunk>, caller: Party) async throws -> Convene_Lessons_V1_Experience {
        var chunks = requests.makeAsyncIterator()
        guard let first = try await chunks.next(), first.hasHeader else {
            throw RPCError(.invalidArgument, "header: the first message carries the experience's header")
        }
        let header = first.header
        let title = try requireText(header.title, field: "header.title", max: 1000)
        try header.period.checkKnown(field: "header.period")
        try require(header.period != .unspecified, .invalidArgument, "header.period: DURING_DEPLOYMENT or AFTER_WITHDRAWAL (I.B.4)")
        // Check the right to submit before reading a long report.
        try await backend.read { db in
            let operation = try db.requireOperation(header.operationID, field: "header.operation_id")
            try LessonRules.checkMaySubmitExperience(caller, facts: try db.facts(of: operation), operationID: header.operationID)
            try LessonRules.checkHasExperience(phase: operation.phase, operationID: header.operationID)
        }
        var text = first.text
        while let chunk = try await chunks.next() {
            try require(!chunk.hasHeader, .invalidArgument, "header: only the first message carries a header")
            text += chunk.text
            try require(text.utf8.count <= Self.maxExperienceBytes, .resourceExhausted,
                        "experience text is over \(Self.maxExperienceBytes) bytes")
        }
        let body = try requireText(text, field: "text", max: Self.maxExperienceBytes)
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(header.operationID, field: "header.operation_id")
            let record = try db.insert(ExperienceRecord(operationID: operation.id!, partyID: caller.id, period: header.period.rawValue,
                                                        title: title, contingent: header.contingent, text: body,
                                                        submittedAt: backend.now))
            events.append(backend.event(operation.id!, .experienceSubmitted, subject: PublicID.experience.format(record.id),
                                        "\(caller.name): \(title) (I.B.4)", audience: .experience(submittedBy: caller.id)))
            return record.proto
        }
    }

    public func listExperience(_ request: Convene_Lessons_V1_ListExperienceRequest,
                               context: ServerCallContext) async throws -> Convene_Lessons_V1_ListExperienceResponse {
        let caller = try await backend.caller(context)
        return try await backend.read { db in
            let (operation, _, _) = try db.requireReadableOperation(request.operationID, caller: caller,
                                                                    reading: "the contingents' experience")
            let visible = try db.experience(operationID: operation.id!).filter {
                LessonRules.seesExperience(caller, submittedBy: $0.partyID)
            }
            return .with { $0.experience = visible.map(\.proto) }
        }
    }

    public func recordLesson(_ request: Convene_Lessons_V1_RecordLessonRequest,
                             context: ServerCallContext) async throws -> Convene_Lessons_V1_Lesson {
        try LessonRules.checkMayRecordLesson(try await backend.caller(context))
        let finding = try requireText(request.finding, field: "finding")
        let recommendation = try requireText(request.recommendation, field: "recommendation")
        try request.stage.checkKnown(field: "stage")
        try require(request.stage != .unspecified, .invalidArgument, "stage: required")
        try checkList(request.topics, field: "topics", maxCount: 50, maxEach: 200)
        var given: [String] = []
        for topic in request.topics.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() })
            where !topic.isEmpty && !given.contains(topic) { given.append(topic) }
        let topics = given
        return try await backend.write { [backend] db, events in
            let operation = try db.requireOperation(request.operationID)
            try db.checkLessonSource(request.sourceID, operation: operation, now: backend.now)
            let lesson = try db.insert(LessonRecord(operationID: operation.id!, stage: request.stage.rawValue, finding: finding,
                                                    recommendation: recommendation, topics: topics, sourceID: request.sourceID,
                                                    recordedAt: backend.now))
            events.append(backend.event(operation.id!, .lessonRecorded, subject: PublicID.lesson.format(lesson.id), finding,
                                        audience: .operation))
            return lesson.proto
        }
    }

    public func searchLessons(_ request: Convene_Lessons_V1_SearchLessonsRequest,
                              context: ServerCallContext) async throws -> Convene_Lessons_V1_SearchLessonsResponse {
        let caller = try await backend.caller(context)
        try require(request.limit >= 0, .invalidArgument, "limit: must not be negative")
        let limit = request.limit == 0 ? 50 : min(Int(request.limit), 500)
        let words = request.query.lowercased().split(whereSeparator: { $0.isWhitespace }).map(String.init)
        let topic = request.topic.lowercased()
        return try await backend.read { db in
            let operationID = request.operationID.isEmpty ? nil : try db.requireOperation(request.operationID).id
            let matches = try db.lessons().filter { lesson in
                if let operationID, lesson.operationID != operationID { return false }
                if request.stage != .unspecified, lesson.stage != request.stage.rawValue { return false }
                if !topic.isEmpty, !lesson.topics.contains(topic) { return false }
                let haystack = ([lesson.finding, lesson.recommendation] + lesson.topics).joined(separator: " ").lowercased()
                return words.allSatisfy { haystack.contains($0) }
            }
            // Lessons are for every operation's planning (I.B.3); the meeting or the contingent's
            // experience one came from is named only to those who may see it (ListExperience's rule).
            return try .with {
                $0.lessons = try matches.prefix(limit).map { lesson in
                    var shown = lesson.proto
                    if try !db.maySeeLessonSource(lesson.sourceID, caller: caller) { shown.sourceID = "" }
                    return shown
                }
            }
        }
    }
}

extension StoreReader {
    /// Whether `caller` may learn that a lesson came from `sourceID`: a meeting it may see, an
    /// experience it may read (the Council, the Secretariat, the submitting country).
    func maySeeLessonSource(_ sourceID: String, caller: Party) throws -> Bool {
        if sourceID.hasPrefix(PublicID.meeting.rawValue + "-") {
            return (try? requireVisibleMeeting(sourceID, caller: caller)) != nil
        }
        if sourceID.hasPrefix(PublicID.experience.rawValue + "-") {
            guard let id = try? PublicID.experience.parse(sourceID, field: "source_id"), let experience = try experience(id: id) else {
                return false
            }
            return LessonRules.seesExperience(caller, submittedBy: experience.partyID)
        }
        return sourceID.isEmpty
    }

    /// A lesson's source, when given: an experience ("exp-N") or an assessment meeting ("mtg-N")
    /// of the lesson's operation that has taken place (I.B.3, I.B.4). Only the Secretariat
    /// records lessons, and it sees both.
    func checkLessonSource(_ sourceID: String, operation: OperationRecord, now: Int64) throws {
        guard !sourceID.isEmpty else { return }
        let sourceOperation: Int64
        if sourceID.hasPrefix(PublicID.experience.rawValue + "-") {
            let id = try PublicID.experience.parse(sourceID, field: "source_id")
            guard let experience = try experience(id: id) else { throw RPCError(.notFound, "source_id: no experience \(sourceID)") }
            sourceOperation = experience.operationID
        } else {
            guard sourceID.hasPrefix(PublicID.meeting.rawValue + "-") else {
                throw RPCError(.invalidArgument, "source_id: '\(sourceID)' is neither an experience (exp-N) nor an assessment meeting (mtg-N)")
            }
            let id = try PublicID.meeting.parse(sourceID, field: "source_id")
            guard let meeting = try meeting(id: id) else { throw RPCError(.notFound, "source_id: no meeting \(sourceID)") }
            guard meeting.form == .evaluation else {
                throw RPCError(.failedPrecondition,
                    "source_id: \(sourceID) is one of the \(meeting.form.name); lessons are drawn from \(MeetingForm.evaluation.name) or from contingents' experience (I.B.4)")
            }
            guard meeting.status == .held || meeting.scheduledAt <= now else {
                throw RPCError(.failedPrecondition,
                    "source_id: \(sourceID) is scheduled for \(TimeText.date(meeting.scheduledAt)); lessons are drawn from an assessment meeting once it has taken place (I.B.3)")
            }
            sourceOperation = meeting.operationID
        }
        guard sourceOperation == operation.id else {
            throw RPCError(.failedPrecondition,
                "source_id: \(sourceID) is on operation \(PublicID.operation.format(sourceOperation)), not on \(PublicID.operation.format(operation.id))")
        }
    }
}
