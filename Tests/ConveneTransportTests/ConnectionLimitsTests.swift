import ConveneTransport
import XCTest

/// The connection limits both listeners share: in all, per client address, and when file
/// descriptors run out; each refusal names its limit.
final class ConnectionLimitsTests: XCTestCase {
    func testEachLimitRefusesWithItsOwnReasonAndReleasingMakesRoom() {
        let limits = ConnectionLimits(maxConnections: 3, maxPerAddress: 2)
        XCTAssertEqual(limits.admit(address: "10.0.0.1"), .admitted)
        XCTAssertEqual(limits.admit(address: "10.0.0.1"), .admitted)
        XCTAssertEqual(limits.admit(address: "10.0.0.1"),
                       .refused("the server is at its limit of 2 connections from 10.0.0.1 (per address); close some first", .perAddressLimit))
        XCTAssertEqual(limits.admit(address: "10.0.0.2"), .admitted)
        XCTAssertEqual(limits.admit(address: "10.0.0.3"),
                       .refused("the server is at its limit of 3 connections; try again later", .connectionLimit))
        limits.release(address: "10.0.0.1")
        XCTAssertEqual(limits.count(from: "10.0.0.1"), 1)
        XCTAssertEqual(limits.admit(address: "10.0.0.3"), .admitted)
        limits.descriptorsExhausted = true
        limits.release(address: "10.0.0.3")
        XCTAssertEqual(limits.admit(address: "10.0.0.4"), .refused("the server is out of file descriptors; try again later", .connectionLimit))
        XCTAssertEqual(limits.takeRefusedCount(), 3)
        XCTAssertEqual(limits.count, 2)
    }
}
