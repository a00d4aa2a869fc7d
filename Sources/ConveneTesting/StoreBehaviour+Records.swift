import ConveneDomain
import ConveneStore
import Foundation
import XCTest

extension StoreBehaviour {
    /// Every kind of record, with every field set (nested values, optionals, flags, the largest
    /// integers), reads back as it was written; and an update that clears an optional clears it.
    @Sendable public func everyRecordComesBackAsItWasWritten() async throws {
        let store = try await makeStore()
        let written = try await store.write { db in try Self.writeOneOfEach(db) }
        let read = try await store.read { db in try Self.readBack(db, written) }
        for (kind, wrote) in written.json {
            XCTAssertEqual(read.json[kind], wrote, "\(kind) came back changed")
        }
        XCTAssertEqual(read.json.keys.sorted(), written.json.keys.sorted())
        XCTAssertEqual(read.chunk, [0, 255, 1, 254], "an attachment's piece, byte for byte")

        try await store.write { db in
            var statement = try XCTUnwrap(try db.statement(id: written.statementID))
            statement.response = nil
            statement.respondedBy = nil
            try db.update(statement)
        }
        let cleared = try await store.read { db in try db.statement(id: written.statementID) }
        XCTAssertNil(cleared?.response, "an update to nil stores nothing")
        XCTAssertNil(cleared?.respondedBy)
    }

    struct Written: Sendable {
        var json: [String: String] = [:]
        var partyID: Int64 = 0, credentialHash = "", operationID: Int64 = 0, meetingID: Int64 = 0
        var statementID: Int64 = 0, requestID: Int64 = 0, reportID: Int64 = 0, attachmentID: Int64 = 0
        var experienceID: Int64 = 0
        var chunk: [UInt8]? = nil
    }

    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "unencodable"
    }

    static func writeOneOfEach(_ db: any StoreWriter) throws -> Written {
        var w = Written()
        let party = try db.insert(PartyRecord(name: "Norland — ünïcode 'quoted' \"names\"", kind: .memberState,
                                              roles: [.councilMember, .secretariatStaff]))
        let other = try db.insert(PartyRecord(name: "Estmark", kind: .memberState, roles: [.councilPresident]))
        w.partyID = party.id!
        w.json["party"] = json(party)
        var credential = try db.insert(CredentialRecord(partyID: party.id!, tokenHash: "ab12", label: "laptop", createdAt: .max))
        credential.revokedAt = .min
        try db.update(credential)
        w.credentialHash = credential.tokenHash
        w.json["credential"] = json(credential)
        var term = try db.insert(PresidencyRecord(partyID: other.id!, startedAt: 1))
        term.endedAt = 2
        try db.update(term)
        w.json["presidencies"] = json([term])
        let operation = try db.insert(OperationRecord(name: "UNMIX", mandate: "Monitor\nthe ceasefire", useOfForce: "",
                                                      phase: .deployed, hostCountryID: other.id, createdAt: -5))
        w.operationID = operation.id!
        w.json["operation"] = json(operation)
        let contribution = try db.insert(ContributionRecord(operationID: operation.id!, partyID: party.id!, kind: .civilianPolice,
                                                            quantity: Int64(Int32.max) + 1, description: "a unit"))
        w.json["contributions"] = json([contribution])
        try db.addPotentialContributor(operationID: operation.id!, partyID: party.id!)
        try db.addPotentialContributor(operationID: operation.id!, partyID: party.id!)
        var request = try db.insert(MeetingRequestRecord(operationID: operation.id!, requestedBy: party.id!, form: .consultationMeeting,
                                                         reason: "why", concerns: ["safety", "supplies"], createdAt: 3))
        let report = try db.insert(ReportRecord(operationID: operation.id!, symbol: "S/2001/1", title: "Report", text: "Text",
                                                requestedByCouncil: true, publishedAt: 4))
        var meeting = MeetingRecord(
            operationID: operation.id!, form: .consultationMeeting, isPublic: true, stage: .mandateRenewal, requestID: request.id,
            scheduledAt: 10, convenedBy: other.id!,
            topics: [TopicRecord(kind: 2, description: "safety", raisedByPartyID: party.id, requestID: request.id),
                     TopicRecord(kind: 1, description: "", raisedByPartyID: nil)],
            paper: PaperRecord(agenda: "Agenda", issues: ["one", "two"],
                               backgroundDocuments: [DocumentRecord(title: "Doc", reference: "S/1", lessonID: 9),
                                                     DocumentRecord(title: "Other", reference: "", lessonID: nil)]),
            missionOfficials: [1, 3], summaryOverrideReason: "urgent", createdAt: 5)
        meeting.pastReason = "held before the system"
        meeting.reportID = report.id
        meeting.flags = ["late", "order"]
        meeting.lateReason = "travel"
        meeting = try db.insert(meeting)
        meeting.status = .held
        try db.update(meeting)
        w.meetingID = meeting.id!
        w.json["meeting"] = json(meeting)
        request.status = .declined
        request.meetingID = meeting.id
        request.declineReason = "no"
        try db.update(request)
        w.requestID = request.id!
        w.json["request"] = json(request)
        var distributed = report
        distributed.meetingID = meeting.id
        distributed.distributedAt = 6
        distributed.flags = ["late"]
        distributed.lateReason = "printing"
        try db.update(distributed)
        w.reportID = report.id!
        w.json["report"] = json(distributed)
        let invitation = InvitationRecord(meetingID: meeting.id!, invitation: ProposedInvitation(
            partyID: party.id!, category: .troopPoliceContributor, role: .participant, required: true, reason: "contributes (II.B.3(a))"))
        try db.insert(invitation)
        w.json["invitations"] = json([invitation])
        var statement = try db.insert(StatementRecord(meetingID: meeting.id!, partyID: party.id!, text: "Said", concern: true, createdAt: 7))
        statement.response = "Answered"
        statement.respondedBy = other.id
        try db.update(statement)
        w.statementID = statement.id!
        w.json["statement"] = json(statement)
        var summary = SummaryRecord(meetingID: meeting.id!, text: "Summary", preparedBy: other.id!, preparedAt: 8)
        try db.save(summary)
        summary.status = .circulated
        summary.circulatedAt = 9
        try db.save(summary)
        w.json["summary"] = json(summary)
        let event = try db.append(EventRecord(operationID: operation.id!, kind: "meeting.requested", subjectID: "req-1",
                                              description: "requested", meetingID: nil, time: 11,
                                              audience: .request(requestedBy: party.id!)))
        w.json["events"] = json([event])
        let sheet = try db.insert(FactSheetRecord(meetingID: meeting.id!, title: "Facts", content: "Content",
                                                  recipients: [party.id!, other.id!], issuedAt: 12))
        w.json["factSheets"] = json([sheet])
        var attachment = try db.insert(AttachmentRecord(meetingID: meeting.id!, fileName: "a.pdf", contentType: "application/pdf",
                                                        uploadedBy: other.id!, createdAt: 13))
        try db.appendAttachmentChunk(attachmentID: attachment.id!, position: 0, data: [0, 255, 1, 254])
        attachment.complete = true
        attachment.size = 4
        attachment.sha256 = "00ff"
        try db.update(attachment)
        w.attachmentID = attachment.id!
        w.json["attachment"] = json(attachment)
        let briefing = try db.insert(BriefingRecordRow(meetingID: meeting.id!, brieferName: "Envoy", brieferRole: 2, unavailableReason: "",
                                                       political: "p", military: "m", humanitarian: "h", humanRights: "r",
                                                       notAssessed: ["economy"], attachmentIDs: [attachment.id!], givenAt: 14))
        w.json["briefings"] = json([briefing])
        let advice = try db.insert(AdviceRecord(operationID: operation.id!, question: "Q?",
                                                options: [AdviceOptionRecord(title: "A", analysis: "x"),
                                                          AdviceOptionRecord(title: "B", analysis: "y")], submittedAt: 15))
        w.json["advice"] = json([advice])
        let experience = try db.insert(ExperienceRecord(operationID: operation.id!, partyID: party.id!, period: 2, title: "T",
                                                        contingent: "C", text: "Text", submittedAt: 16))
        w.experienceID = experience.id!
        w.json["experience"] = json(experience)
        let lesson = try db.insert(LessonRecord(operationID: operation.id!, stage: 3, finding: "F", recommendation: "R",
                                                topics: ["logistics", "safety"], sourceID: "exp-1", recordedAt: 17))
        w.json["lessons"] = json([lesson])
        return w
    }

    static func readBack(_ db: any StoreReader, _ w: Written) throws -> Written {
        var r = w
        r.json = [:]
        r.json["party"] = json(try db.party(id: w.partyID))
        r.json["credential"] = json(try db.credential(tokenHash: w.credentialHash))
        r.json["presidencies"] = json(try db.presidencies())
        r.json["operation"] = json(try db.operation(id: w.operationID))
        r.json["contributions"] = json(try db.contributions(operationID: w.operationID))
        XCTAssertEqual(try db.potentialContributors(operationID: w.operationID), [w.partyID], "added twice, stored once")
        r.json["meeting"] = json(try db.meeting(id: w.meetingID))
        r.json["request"] = json(try db.request(id: w.requestID))
        r.json["report"] = json(try db.report(id: w.reportID))
        r.json["invitations"] = json(try db.invitations(meetingID: w.meetingID))
        XCTAssertTrue(try db.isInvited(partyID: w.partyID, operationID: w.operationID))
        r.json["statement"] = json(try db.statement(id: w.statementID))
        r.json["summary"] = json(try db.summary(meetingID: w.meetingID))
        r.json["events"] = json(try db.events(operationID: w.operationID, after: 0, limit: 10))
        r.json["factSheets"] = json(try db.factSheets(meetingID: w.meetingID))
        r.json["attachment"] = json(try db.attachment(id: w.attachmentID))
        r.json["briefings"] = json(try db.briefings(meetingID: w.meetingID))
        r.json["advice"] = json(try db.advice(operationID: w.operationID))
        r.json["experience"] = json(try db.experience(id: w.experienceID))
        r.json["lessons"] = json(try db.lessons())
        r.chunk = try db.attachmentChunk(attachmentID: w.attachmentID, position: 0)
        return r
    }
}
