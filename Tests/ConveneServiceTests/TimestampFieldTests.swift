import ConveneClient
import ConveneProtos
import ConveneRPC
import SwiftProtobuf
import XCTest

/// A timestamp from the network is checked as a timestamp: nanos past a second were taken as
/// seconds (a meeting "at" 1970-01-01T00:00:02.147 was convened), and negative ones were
/// answered "required".
final class TimestampFieldTests: XCTestCase {
    func testAScheduledTimeThatIsNoTimestampIsNamed() async throws {
        let f = try await Fixture(builtPlugins: false)
        try await f.registerParties()
        let operation = try await f.makeOperation()
        let valid = f.now / 1000 + 10 * 86_400
        for (time, words) in [((valid, Int32.max), "scheduled_time: nanos is 2147483647, not 0 to 999,999,999"),
                              ((valid, -1), "scheduled_time: nanos is -1, not 0 to 999,999,999"),
                              ((Int64.max, 0), "is outside the years 1 to 9999"),
                              ((0, 0), "scheduled_time: required"),
                              ((-62_135_596_800, 0), "scheduled_time: -62135596800 seconds is before 1970")] {
            await assertRPCError(.invalidArgument, containing: words) {
                _ = try await f.client.consultation.conveneMeeting(.with {
                    $0.operationID = operation; $0.form = .consultationMeeting; $0.stage = .mandateRenewal
                    $0.scheduledTime = Google_Protobuf_Timestamp(seconds: time.0, nanos: time.1)
                    $0.informalPaper = .with { $0.agenda = "1. Renewal"; $0.issues = ["Force structure"] }
                }, options: f.options("President"))
            }
        }
        // The bounds of a period asked for are any time of the years 1 to 9999, and checked as such.
        for (field, time) in [("from_time", Google_Protobuf_Timestamp(seconds: 0, nanos: -1)),
                              ("to_time", Google_Protobuf_Timestamp(seconds: Int64.max, nanos: 0))] {
            await assertRPCError(.invalidArgument, containing: field) {
                _ = try await f.client.unary(CM.getConsultationAccount, Convene_Consultation_V1_GetConsultationAccountRequest.with {
                    $0.operationID = operation
                    if field == "from_time" { $0.fromTime = time } else { $0.toTime = time }
                }, as: Convene_Consultation_V1_ConsultationAccount.self, options: f.options("Secretariat"))
            }
        }
        await f.stop(); f.remove()
    }
}
