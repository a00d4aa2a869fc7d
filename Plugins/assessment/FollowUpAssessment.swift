// Six-month follow-up assessment (resolution 1353 (2001), I.D.1, OP.3), in Swift with the
// plugin SDK. It reads the consultation and briefing services as its caller (so the figures
// cover what the caller may see) and computes the efficiency and effectiveness of the
// meetings with contributors over a window. The participation and lead-time figures are
// ConveneDomain's FollowUpRules, so that they match a hand count: participants are the parties
// invited as participants to each meeting (never observers or plugin principals), and the mean
// lead time is over every report distributed in the window whose meeting is in the window.
//
// Storage: "proposal/<id>" -> Proposal, "seq/proposal" -> counter.
import ConveneDomain
import ConveneMessages
import ConvenePluginSDK
import Foundation

enum FollowUpAssessment {
    static var definition: PluginDefinition {
        var plugin = PluginDefinition(name: "follow-up-assessment", version: "1.1.0",
                                      service: "convene.assessment.v1.FollowUpAssessment", descriptorSet: assessmentDescriptorSet)

        plugin.unary("SubmitProposal") { (request: Convene_Assessment_V1_SubmitProposalRequest, context) -> Convene_Assessment_V1_Proposal in
            try PluginError.requireText(request.text, field: "text")
            try requireTroopContributor(context)
            let proposal = try Convene_Assessment_V1_Proposal.with {
                $0.id = "proposal-\(try context.nextNumber("proposal"))"
                $0.partyID = context.caller
                $0.text = request.text
                $0.submitTime = Google_Protobuf_Timestamp(date: Date())
            }
            try context.put("proposal/\(proposal.id)", proposal)
            return proposal
        }

        plugin.unary("Assess") { (request: Convene_Assessment_V1_AssessRequest, context) -> Convene_Assessment_V1_Assessment in
            try context.require("the assessment is for the Council and the Secretariat (OP.3, I.D.1)",
                                anyOf: PartyRole.secretariat, PartyRole.councilPresident, PartyRole.councilMember)
            guard request.windowDays >= 0, request.windowDays <= 3660 else {
                throw PluginError(CONVENE_INVALID_ARGUMENT, "window_days: 0 (six months) to 3660")
            }
            let days = request.windowDays == 0 ? 183 : Int(request.windowDays)
            let to = request.hasToTime ? request.toTime.date : Date(), from = to.addingTimeInterval(-Double(days) * 86_400)
            return try assess(from: from, to: to, context)
        }
        return plugin
    }

    /// OP.3 and I.D.1 consider the troop-contributing countries' proposals: the caller
    /// contributes personnel to an operation as a country (or a regional or subregional
    /// organization), or the Secretary-General identified it as a potential contributor to
    /// one. The server's rules say so of each operation (`FriendsRules.memberKinds`' contributor).
    static func requireTroopContributor(_ context: PluginContext) throws {
        var pageToken = ""
        for _ in 0..<1_000 {
            let page = try context.call(HostMethods.Consultation.listOperations, .with { $0.pageSize = 500; $0.pageToken = pageToken },
                                        asPlugin: true)
            for operation in page.operations {
                let answer = context.ask(CONVENE_RULE_FRIENDS_MEMBER_KINDS, party: context.caller, about: operation.id)
                if let answer, answer.value > 0, answer.value & Int32(CONVENE_FRIENDS_CONTRIBUTOR.rawValue) != 0 { return }
            }
            pageToken = page.nextPageToken
            if pageToken.isEmpty { break }
        }
        throw PluginError(CONVENE_PERMISSION_DENIED,
            "proposals for the assessment are the troop-contributing countries' (OP.3, I.D.1): the caller contributes personnel to no operation, and the Secretary-General identified it as a potential contributor to none")
    }

    static func assess(from: Date, to: Date, _ context: PluginContext) throws -> Convene_Assessment_V1_Assessment {
        var result = Convene_Assessment_V1_Assessment()
        result.fromTime = Google_Protobuf_Timestamp(date: from)
        result.toTime = Google_Protobuf_Timestamp(date: to)
        var byForm: [String: Int32] = [:], byStage: [String: Int32] = [:]
        var consultations = 0, withPaper = 0, held = 0, circulated = 0, inTime = 0
        var attendance: [FollowUpRules.Attendance] = []
        var distributions: [FollowUpRules.Distribution] = []
        typealias C = HostMethods.Consultation
        let operations = try everyPage { token in
            let page = try context.call(C.listOperations, .with { $0.pageSize = 500; $0.pageToken = token })
            return (page.operations, page.nextPageToken)
        }
        for operation in operations {
            let account = try context.call(C.getConsultationAccount, .with {
                $0.operationID = operation.id
                $0.fromTime = Google_Protobuf_Timestamp(date: from)
                $0.toTime = Google_Protobuf_Timestamp(date: to)
            })
            result.concernsRaised += account.concernsRaised
            result.concernsAnswered += account.concernsAnswered
            result.requestsReceived += account.requestsReceived
            result.requestsDeclined += account.requestsDeclined
            let meetings = try everyPage { token in
                let page = try context.call(C.listMeetings, .with { $0.operationID = operation.id; $0.pageSize = 500; $0.pageToken = token })
                return (page.meetings, page.nextPageToken)
            }
            // When each meeting (in the window or not) is held, for the reports' lead times.
            let scheduled = Dictionary(meetings.map { ($0.id, $0.scheduledTime.date) }) { first, _ in first }
            // The Council's own discussions of the operation (II.A meetings and consultations).
            let discussions = meetings.filter { $0.form == .councilMeeting || $0.form == .councilConsultations }.map(\.scheduledTime.date)
            for entry in account.meetings {
                let meeting = entry.meeting
                result.meetings += 1
                byForm[formName(meeting.form), default: 0] += 1
                if meeting.form == .consultationMeeting {
                    consultations += 1
                    byStage[meeting.requestID.isEmpty ? stageName(meeting.stage) : "request", default: 0] += 1
                    if !meeting.informalPaper.agenda.isEmpty { withPaper += 1 }
                    if meeting.status == .held {
                        held += 1
                        if meeting.summaryStatus == .circulated {
                            circulated += 1
                            let summary = try context.call(C.getSummary, .with { $0.meetingID = meeting.id })
                            let next = discussions.filter { $0 > meeting.scheduledTime.date }.min()
                            if next.map({ summary.circulateTime.date <= $0 }) ?? true { inTime += 1 }
                        }
                    }
                }
                attendance.append(FollowUpRules.Attendance(participants: Set(entry.participantIds.compactMap(partyNumber)),
                                                           speakers: Set(meeting.statements.map(\.partyID).compactMap(partyNumber))))
            }
            let reports = try context.call(HostMethods.Briefing.listReports, .with { $0.operationID = operation.id }).reports
            for report in reports where report.hasDistributeTime {
                let distributed = report.distributeTime.date
                guard distributed >= from, distributed <= to else { continue }
                result.reportsDistributed += 1
                if !report.flags.isEmpty { result.reportsFlagged += 1 }
                if let meetingAt = scheduled[report.meetingID] {
                    distributions.append(FollowUpRules.Distribution(distributedAt: millis(distributed), meetingAt: millis(meetingAt)))
                }
            }
        }
        result.meetingsByForm = byForm.keys.sorted().map { name in .with { $0.name = name; $0.count = byForm[name]! } }
        result.meetingsByStage = byStage.keys.sorted().map { name in .with { $0.name = name; $0.count = byStage[name]! } }
        let lead = FollowUpRules.meanLeadHours(distributions, from: millis(from), to: millis(to))
        result.meanReportLeadHours = lead.hours
        result.reportsCountedForLeadTime = Int32(clamping: lead.counted)
        result.informalPaperShare = consultations == 0 ? 0 : Double(withPaper) / Double(consultations)
        result.summariesCirculatedShare = held == 0 ? 0 : Double(circulated) / Double(held)
        result.summariesInTimeShare = held == 0 ? 0 : Double(inTime) / Double(held)
        let participation = FollowUpRules.participation(attendance)
        result.meanParticipants = participation.meanParticipants
        result.participationShare = participation.share
        result.proposals = context.all("proposal/", as: Convene_Assessment_V1_Proposal.self).filter {
            $0.submitTime.date >= from && $0.submitTime.date <= to
        }
        return result
    }

    /// Every item of a listing, page by page (`fetch` takes a page token and gives the page's
    /// items and the next token, empty after the last): a server answers at most 500 per page,
    /// and the figures cover everything the caller may see. At most 1,000 pages.
    static func everyPage<Item>(_ fetch: (String) throws -> ([Item], String)) throws -> [Item] {
        var items: [Item] = []
        var token = ""
        for _ in 0..<1_000 {
            let (page, next) = try fetch(token)
            items += page
            guard !next.isEmpty else { break }
            token = next
        }
        return items
    }

    /// The row number of a party id ("party-3"); nil for anything else.
    static func partyNumber(_ id: String) -> Int64? {
        guard id.hasPrefix("party-"), let number = Int64(id.dropFirst(6)), number > 0 else { return nil }
        return number
    }

    static func millis(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func formName(_ form: Convene_Consultation_V1_MeetingForm) -> String {
        switch form {
        case .councilMeeting: "II.A"
        case .consultationMeeting: "II.B"
        case .secretariatMeeting: "II.C"
        case .otherConsultation: "II.D"
        case .evaluation: "I.B.3"
        default: "other"
        }
    }

    static func stageName(_ stage: Convene_Consultation_V1_Stage) -> String {
        let letters = ["a", "b", "c", "d", "e", "f", "g"]
        let index = stage.rawValue - 1
        return index >= 0 && index < letters.count ? "II.B.2(\(letters[index]))" : "unspecified"
    }
}
