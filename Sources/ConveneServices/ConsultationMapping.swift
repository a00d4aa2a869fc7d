import ConveneDomain
import ConveneProtos
import ConveneRPC
import ConveneStore
import SwiftProtobuf


extension OperationRecord {
    func proto(potentialContributors: [Int64]) -> Convene_Consultation_V1_Operation {
        .with {
            $0.id = PublicID.operation.format(id)
            $0.name = name
            $0.mandate = mandate
            $0.useOfForce = useOfForce
            $0.phase = Convene_Consultation_V1_Phase(rawValue: phase.rawValue) ?? .unspecified
            $0.hostCountryID = hostCountryID.map(PublicID.party.format) ?? ""
            $0.potentialContributorIds = potentialContributors.map(PublicID.party.format)
            $0.createTime = Google_Protobuf_Timestamp(millis: createdAt)
            $0.version = version
        }
    }
}

extension ContributionRecord {
    var proto: Convene_Consultation_V1_Contribution {
        .with {
            $0.id = PublicID.contribution.format(id)
            $0.operationID = PublicID.operation.format(operationID)
            $0.partyID = PublicID.party.format(partyID)
            $0.kind = Convene_Consultation_V1_ContributionKind(rawValue: kind) ?? .unspecified
            $0.quantity = quantity
            $0.description_p = description
        }
    }
}

extension StatementRecord {
    var proto: Convene_Consultation_V1_Statement {
        .with {
            $0.id = PublicID.statement.format(id)
            $0.meetingID = PublicID.meeting.format(meetingID)
            $0.partyID = PublicID.party.format(partyID)
            $0.text = text
            $0.concern = concern
            $0.response = response ?? ""
            $0.respondedByPartyID = respondedBy.map(PublicID.party.format) ?? ""
            $0.createTime = Google_Protobuf_Timestamp(millis: createdAt)
        }
    }
}

extension MeetingRequestRecord {
    var proto: Convene_Consultation_V1_MeetingRequest {
        .with {
            $0.id = PublicID.request.format(id)
            $0.operationID = PublicID.operation.format(operationID)
            $0.requestedByPartyID = PublicID.party.format(requestedBy)
            $0.form = Convene_Consultation_V1_MeetingForm(rawValue: form.rawValue) ?? .unspecified
            $0.reason = reason
            $0.concerns = concerns
            $0.status = Convene_Consultation_V1_RequestStatus(rawValue: status.rawValue) ?? .unspecified
            $0.meetingID = meetingID.map(PublicID.meeting.format) ?? ""
            $0.declineReason = declineReason ?? ""
            $0.createTime = Google_Protobuf_Timestamp(millis: createdAt)
        }
    }
}

extension SummaryRecord {
    var proto: Convene_Consultation_V1_Summary {
        .with {
            $0.meetingID = PublicID.meeting.format(meetingID)
            $0.text = text
            $0.status = Convene_Consultation_V1_SummaryStatus(rawValue: status.rawValue) ?? .unspecified
            $0.preparedByPartyID = PublicID.party.format(preparedBy)
            $0.prepareTime = Google_Protobuf_Timestamp(millis: preparedAt)
            if let circulatedAt { $0.circulateTime = Google_Protobuf_Timestamp(millis: circulatedAt) }
        }
    }
}

extension EventRecord {
    /// What the event concerns. A plugin's event is stored as the plugin's ("plugin:NAME",
    /// which keeps it from the events plugins react to) and shown as about its meeting, or
    /// its operation: its kind, in the plugin's own namespace, tells whose it is.
    var publicSubjectID: String {
        guard subjectID.hasPrefix(Self.pluginSubjectPrefix) else { return subjectID }
        return meetingID.map(PublicID.meeting.format) ?? PublicID.operation.format(operationID)
    }

    static let pluginSubjectPrefix = "plugin:"

    var proto: Convene_Consultation_V1_OperationEvent {
        .with {
            $0.sequence = sequence ?? 0
            $0.operationID = PublicID.operation.format(operationID)
            $0.kind = kind
            $0.subjectID = publicSubjectID
            $0.description_p = description
            $0.time = Google_Protobuf_Timestamp(millis: time)
        }
    }
}

func invitationProto(_ record: InvitationRecord, name: String) -> Convene_Consultation_V1_Invitation {
    .with {
        $0.partyID = PublicID.party.format(record.partyID)
        $0.partyName = name
        $0.category = Convene_Consultation_V1_InvitationCategory(rawValue: record.category) ?? .unspecified
        $0.role = Convene_Consultation_V1_ParticipationRole(rawValue: record.role) ?? .unspecified
        $0.required = record.required
        $0.reason = record.reason
    }
}

func invitationProto(_ proposed: ProposedInvitation, name: String) -> Convene_Consultation_V1_Invitation {
    invitationProto(InvitationRecord(meetingID: 0, invitation: proposed), name: name)
}

/// A meeting as `viewer` reads it: its flags only where they name no meeting hidden from it,
/// the reasons given for them only with all of them.
func meetingProto(_ meeting: MeetingRecord, viewer: Party, db: any StoreReader) throws -> Convene_Consultation_V1_Meeting {
    let id = meeting.id!
    let names = Dictionary(uniqueKeysWithValues: try db.allParties().map { ($0.id!, $0.name) })
    let summary = try db.summary(meetingID: id)
    return try .with {
        $0.id = PublicID.meeting.format(id)
        $0.operationID = PublicID.operation.format(meeting.operationID)
        $0.form = Convene_Consultation_V1_MeetingForm(rawValue: meeting.form.rawValue) ?? .unspecified
        $0.public = meeting.isPublic
        $0.stage = Convene_Consultation_V1_Stage(rawValue: meeting.stage?.rawValue ?? 0) ?? .unspecified
        $0.requestID = meeting.requestID.map(PublicID.request.format) ?? ""
        $0.scheduledTime = Google_Protobuf_Timestamp(millis: meeting.scheduledAt)
        $0.convenedByPartyID = PublicID.party.format(meeting.convenedBy)
        $0.status = Convene_Consultation_V1_MeetingStatus(rawValue: meeting.status.rawValue) ?? .unspecified
        $0.invitations = try db.invitations(meetingID: id).map { invitationProto($0, name: names[$0.partyID] ?? "") }
        $0.topics = meeting.topics.map { topic in
            .with {
                $0.kind = Convene_Consultation_V1_TopicKind(rawValue: topic.kind) ?? .unspecified
                $0.description_p = topic.description
                $0.raisedByPartyID = topic.raisedByPartyID.map(PublicID.party.format) ?? ""
                $0.requestID = topic.requestID.map(PublicID.request.format) ?? ""
            }
        }
        if let paper = meeting.paper {
            $0.informalPaper = .with { p in
                p.agenda = paper.agenda
                p.issues = paper.issues
                p.backgroundDocuments = paper.backgroundDocuments.map { d in
                    .with {
                        $0.title = d.title
                        $0.reference = d.reference
                        $0.lessonID = d.lessonID.map { "lesson-\($0)" } ?? ""
                    }
                }
            }
        }
        $0.missionOfficials = meeting.missionOfficials.compactMap(Convene_Consultation_V1_MissionOfficial.init(rawValue:))
        $0.statements = try db.statements(meetingID: id).map(\.proto)
        $0.summaryStatus = meeting.form == .consultationMeeting
            ? Convene_Consultation_V1_SummaryStatus(rawValue: (summary?.status ?? .notPrepared).rawValue) ?? .unspecified
            : .unspecified
        // The II.B.6 override tells of contributors' meetings whose summaries were pending when
        // it was convened: it is for the Council and the Secretariat, who see those meetings.
        if viewer.isCouncilMember || viewer.isSecretariat { $0.summaryOverrideReason = meeting.summaryOverrideReason ?? "" }
        $0.createTime = Google_Protobuf_Timestamp(millis: meeting.createdAt)
        $0.pastMeetingReason = meeting.pastReason ?? ""
        $0.reportID = meeting.reportID.map(PublicID.report.format) ?? ""
        $0.flags = try db.flags(meeting.flags, visibleTo: viewer)
        // The reason answers every flag: it may tell of a meeting a hidden one names.
        $0.lateReason = $0.flags.count == meeting.flags.count ? meeting.lateReason ?? "" : ""
    }
}

public enum OperationEvents {
    /// An event as a serialized convene.consultation.v1.OperationEvent (what plugins receive).
    public static func serialized(_ event: EventRecord) -> [UInt8] {
        (try? event.proto.serializedBytes()) ?? []
    }
}
