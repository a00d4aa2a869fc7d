import ConveneProtos
import ConveneStore
import Foundation
import SwiftProtobuf

extension ReportRecord {
    var proto: Convene_Briefing_V1_Report {
        .with {
            $0.id = "report-\(id ?? 0)"
            $0.operationID = PublicID.operation.format(operationID)
            $0.symbol = symbol
            $0.title = title
            $0.text = text
            $0.requestedByCouncil = requestedByCouncil
            $0.publishTime = Google_Protobuf_Timestamp(millis: publishedAt)
            $0.meetingID = meetingID.map(PublicID.meeting.format) ?? ""
            if let distributedAt { $0.distributeTime = Google_Protobuf_Timestamp(millis: distributedAt) }
            $0.flags = flags
            $0.lateReason = lateReason ?? ""
        }
    }
}

extension FactSheetRecord {
    var proto: Convene_Briefing_V1_FactSheet { proto(recipients: recipients) }

    /// With `recipients` (see `BriefingRules.factSheetRecipients`).
    func proto(recipients: [Int64]) -> Convene_Briefing_V1_FactSheet {
        .with {
            $0.id = "factsheet-\(id ?? 0)"
            $0.meetingID = PublicID.meeting.format(meetingID)
            $0.title = title
            $0.content = content
            $0.recipientIds = recipients.map(PublicID.party.format)
            $0.issueTime = Google_Protobuf_Timestamp(millis: issuedAt)
        }
    }
}

extension AttachmentRecord {
    var proto: Convene_Briefing_V1_Attachment {
        .with {
            $0.id = "att-\(id ?? 0)"
            $0.meetingID = PublicID.meeting.format(meetingID)
            $0.fileName = fileName
            $0.contentType = contentType
            $0.size = size
            $0.sha256 = sha256
        }
    }
}

extension BriefingRecordRow {
    var proto: Convene_Briefing_V1_BriefingRecord {
        .with {
            $0.id = "briefing-\(id ?? 0)"
            $0.meetingID = PublicID.meeting.format(meetingID)
            $0.brieferName = brieferName
            $0.brieferRole = Convene_Briefing_V1_BrieferRole(rawValue: brieferRole) ?? .unspecified
            $0.fieldBrieferUnavailableReason = unavailableReason
            $0.assessment = .with { a in
                a.political = political
                a.military = military
                a.humanitarian = humanitarian
                a.humanRights = humanRights
            }
            $0.dimensionsNotAssessed = notAssessed
            $0.attachmentIds = attachmentIDs.map { "att-\($0)" }
            $0.giveTime = Google_Protobuf_Timestamp(millis: givenAt)
        }
    }
}

extension AdviceRecord {
    var proto: Convene_Briefing_V1_Advice {
        .with {
            $0.id = "advice-\(id ?? 0)"
            $0.operationID = PublicID.operation.format(operationID)
            $0.question = question
            $0.options = options.map { option in .with { $0.title = option.title; $0.objectiveAnalysis = option.analysis } }
            $0.submitTime = Google_Protobuf_Timestamp(millis: submittedAt)
        }
    }
}

extension ExperienceRecord {
    var proto: Convene_Lessons_V1_Experience {
        .with {
            $0.id = "exp-\(id ?? 0)"
            $0.operationID = PublicID.operation.format(operationID)
            $0.partyID = PublicID.party.format(partyID)
            $0.period = Convene_Lessons_V1_ExperiencePeriod(rawValue: period) ?? .unspecified
            $0.title = title
            $0.contingent = contingent
            $0.text = text
            $0.submitTime = Google_Protobuf_Timestamp(millis: submittedAt)
        }
    }
}

extension LessonRecord {
    var proto: Convene_Lessons_V1_Lesson {
        .with {
            $0.id = "lesson-\(id ?? 0)"
            $0.operationID = PublicID.operation.format(operationID)
            $0.stage = Convene_Lessons_V1_LessonStage(rawValue: stage) ?? .unspecified
            $0.finding = finding
            $0.recommendation = recommendation
            $0.topics = topics
            $0.sourceID = sourceID
            $0.recordTime = Google_Protobuf_Timestamp(millis: recordedAt)
        }
    }
}
