import ConveneClient
import ConveneProtos
import ConveneRPC
import ConveneServices
import XCTest

/// How many WatchOperation streams a party holds open: each reads every event of its
/// operation again, so one party's thousands of streams slowed every write (SECURITY.md).
final class WatchLimitTests: XCTestCase {
    func testAPartyHoldsAtMostItsWatchesPerOperationAndInAll() async throws {
        let f = try await Fixture(builtPlugins: false, configure: { $0.watchLimits = WatchLimits(perOperation: 2, perParty: 3) })
        try await f.registerParties()
        let first = try await f.makeOperation(name: "UNMIX")
        let second = try await f.makeOperation(name: "UNMOB")
        let c = f.client.consultation

        /// A watch opened by `party` on `operation`, its first event (the backlog's) read.
        func watch(_ operation: String, as party: String) async throws -> TypedCall<Convene_Consultation_V1_WatchOperationRequest, Convene_Consultation_V1_OperationEvent> {
            let call = try await c.watchOperation(.with { $0.operationID = operation }, options: f.options(party))
            var events = call.responses.makeAsyncIterator()
            _ = try await events.next()
            return call
        }

        let held = [try await watch(first, as: "Troops"), try await watch(first, as: "Troops")]
        await assertRPCError(.resourceExhausted, containing: "watches \(first) in 2 streams, the most a party may hold open on one operation") {
            _ = try await watch(first, as: "Troops")
        }
        // Another party is not held back by this one's streams.
        let secretariat = try await watch(first, as: "Secretariat")
        // Another operation, up to the party's limit in all.
        let third = try await watch(second, as: "Troops")
        await assertRPCError(.resourceExhausted, containing: "already has 3 WatchOperation streams open") {
            _ = try await watch(second, as: "Troops")
        }
        // A stream that ends gives its place back.
        held[0].cancel()
        let again = await eventually {
            guard let call = try? await watch(first, as: "Troops") else { return false }
            call.cancel()
            return true
        }
        XCTAssertTrue(again, "a closed stream's place is given back")
        for call in [held[1], secretariat, third] { call.cancel() }
        await f.stop(); f.remove()
    }
}
