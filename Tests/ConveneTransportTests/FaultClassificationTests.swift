@testable import ConveneTransport
import ConveneRPC
import ConveneWire
import XCTest

/// The one table that decides what each fault does, checked against PROTOCOL.md's words:
/// §2 and §4 (connection errors and their GOAWAY codes), §4 and §6 (call errors and their
/// statuses), §6 (what is dropped).
final class FaultClassificationTests: XCTestCase {
    func testEachFaultIsAStreamErrorAConnectionErrorOrIgnored() {
        let method = MethodDescriptor(service: "a.B", method: "C", kind: .unary)
        let cases: [(ConnectionFault, ConnectionFault.Disposition)] = [
            (.malformed(.badPreface), .closeConnection(.protocolError)),
            (.malformed(.frameTooLarge(declared: 1 << 30, limit: 65_536)), .closeConnection(.frameSizeError)),
            (.malformed(.metadataTooLarge(size: 20_000, limit: 16_384)), .closeConnection(.protocolError)),
            (.malformed(.badSetting("x")), .closeConnection(.protocolError)),
            (.unsupportedVersion(Preface(major: 2, minor: 0)), .closeConnection(.unsupportedVersion)),
            (.firstFrameNotSettings(.call), .closeConnection(.protocolError)),
            (.handshakeTimeout(.seconds(10)), .closeConnection(.timeout)),
            (.frameTimeout(.seconds(30)), .closeConnection(.timeout)),
            (.keepaliveTimeout(.seconds(20)), .closeConnection(.timeout)),
            (.idle(.seconds(300)), .closeConnection(.timeout)),
            (.streamIDNotIncreasing(3, last: 5), .closeConnection(.protocolError)),
            (.frameOnIdleStream(.data, 9), .closeConnection(.protocolError)),
            (.frameOnIdleStream(.cancel, 9), .closeConnection(.protocolError)),
            (.serverOnlyFrame(.end, 1), .closeConnection(.protocolError)),
            (.windowExceeded(1), .closeConnection(.flowControlError)),
            (.windowOverflow(1), .closeConnection(.flowControlError)),
            (.pingFlood(maxStrikes: 5, minInterval: .seconds(1)), .closeConnection(.enhanceYourCalm)),
            (.settingsFlood(maxStrikes: 5, minInterval: .seconds(1)), .closeConnection(.enhanceYourCalm)),
            (.cancelFlood(maxCancels: 200, window: .seconds(30)), .closeConnection(.enhanceYourCalm)),
            (.deadlineFlood(maxCancels: 200, window: .seconds(30)), .closeConnection(.enhanceYourCalm)),
            (.noEffectFlood(maxFrames: 1_000, window: .seconds(10)), .closeConnection(.enhanceYourCalm)),
            (.windowUpdateFlood(received: 111, dataFramesSent: 1, allowed: 110), .closeConnection(.enhanceYourCalm)),
            (.firstFrameNotSettings(.settings, acknowledgement: true), .closeConnection(.protocolError)),
            (.overloaded("full"), .closeConnection(.overloaded)),
            (.frameOnClosedStream(.data, 1), .ignore),
            (.frameOnClosedStream(.windowUpdate, 1), .ignore),
            (.frameOnClosedStream(.cancel, 1), .ignore),
            (.callAfterGoAway(7), .ignore),
            (.tooManyStreams(9, limit: 100), .endCall(.resourceExhausted)),
            (.methodRefused(1, RPCError(.unimplemented, "unknown service a.B")), .endCall(.unimplemented)),
            (.dataAfterHalfClose(1), .endCall(.internal)),
            (.tooManyRequests(1, method), .endCall(.internal)),
            (.missingRequest(1, .unary), .endCall(.internal)),
            (.endedInsideMessage(1, bufferedBytes: 3), .endCall(.internal)),
            (.badMessage(1, .messageTooLarge(declared: 9, limit: 8)), .endCall(.resourceExhausted)),
            (.badMessage(1, .decompressedTooLarge(limit: 8)), .endCall(.resourceExhausted)),
            (.badMessage(1, .decompressionRatio(limit: 1024)), .endCall(.resourceExhausted)),
            (.badMessage(1, .encodingNotAccepted(.deflate)), .endCall(.internal)),
            (.badMessage(1, .badCompressedData("x")), .endCall(.internal)),
            (.deadlineExceeded(1, timeoutMicros: 5), .endCall(.deadlineExceeded)),
            (.responseTooLarge(1, size: 9, limit: 8), .endCall(.resourceExhausted)),
        ]
        for (fault, expected) in cases {
            XCTAssertEqual(fault.disposition, expected, "\(fault)")
            if case .endCall = expected { XCTAssertNotNil(fault.streamID, "an ended call needs its stream: \(fault)") }
            XCTAssertFalse(fault.message.isEmpty)
        }
    }

    func testTheInflateLimitMessageNamesTheLimit() {
        let fault = ConnectionFault.badMessage(1, .decompressedTooLarge(limit: 4_194_304))
        XCTAssertEqual(fault.message, "message inflates past the limit of 4194304 bytes (MAX_MESSAGE_SIZE)")
    }
}
