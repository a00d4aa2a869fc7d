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
                              ((0, 0), "scheduled_time: required")] {
            await assertRPCError(.invalidArgument, containing: words) {
                _ = try await f.client.consultation.conveneMeeting(.with {
                    $0.operationID = operation; $0.form = .consultationMeeting; $0.stage = .mandateRenewal
                    $0.scheduledTime = Google_Protobuf_Timestamp(seconds: time.0, nanos: time.1)
                    $0.informalPaper = .with { $0.agenda = "1. Renewal"; $0.issues = ["Force structure"] }
                }, options: f.options("President"))
            }
        }
        await f.stop(); f.remove()
    }
}
