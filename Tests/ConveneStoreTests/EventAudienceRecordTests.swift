import ConveneDomain
import ConveneStore
import Testing

/// Every audience an event is recorded with reads back as itself, and one this version does
/// not know (written by a later one: a rollback, a cluster mid-upgrade) reaches no one.
@Suite struct EventAudienceRecordTests {
    @Test func eachAudienceRoundTripsAndAnUnknownOneReachesNoOne() {
        let audiences: [EventAudience] = [.operation, .meeting(7), .request(requestedBy: 3), .advice, .experience(submittedBy: 4),
                                          .councilSecretariatAnd(party: 5), .contributors, .nobody]
        for audience in audiences {
            let record = EventRecord(operationID: 1, kind: "k", subjectID: "plugin:p", description: "", meetingID: nil, time: 0,
                                     audience: audience)
            #expect(record.eventAudience == audience)
        }
        var later = EventRecord(operationID: 1, kind: "k", subjectID: "plugin:p", description: "", meetingID: nil, time: 0)
        later.audience = 99
        #expect(later.eventAudience == .nobody)
    }
}
