import ConveneRPC
import XCTest

/// Asserts that `body` fails with an RPCError of `code` (whose message contains `text`, when
/// given); returns the error.
@discardableResult
public func assertRPCError<T>(_ code: StatusCode, containing text: String? = nil,
                              file: StaticString = #filePath, line: UInt = #line,
                              _ body: () async throws -> T) async -> RPCError? {
    do {
        let value = try await body()
        XCTFail("expected \(code.name), got \(value)", file: file, line: line)
        return nil
    } catch let error as RPCError {
        XCTAssertEqual(error.code, code, "message: \(error.message)", file: file, line: line)
        if let text {
            XCTAssertTrue(error.message.contains(text), "'\(error.message)' lacks '\(text)'", file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected RPCError \(code.name), got \(error)", file: file, line: line)
        return nil
    }
}

/// Bounded polling, for conditions that become true asynchronously.
public func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return await condition()
}
