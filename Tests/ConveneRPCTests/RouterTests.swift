import ConveneRPC
import NIOCore
import XCTest

final class RouterTests: XCTestCase {
    let echo = MethodDescriptor(service: "pkg.Echo", method: "Say", kind: .unary)

    func testLookupNamesWhatIsUnknown() throws {
        let router = Router()
        try router.register(echo, .synchronousUnary { request, _ in request })
        guard case .found(let found) = router.lookup(path: "/pkg.Echo/Say") else { return XCTFail() }
        XCTAssertEqual(found.descriptor, echo)
        func message(_ path: String) -> String? {
            if case .unimplemented(let error) = router.lookup(path: path) {
                XCTAssertEqual(error.code, .unimplemented)
                return error.message
            }
            return nil
        }
        XCTAssertEqual(message("/pkg.Echo/Shout"), "unknown method Shout of service pkg.Echo")
        XCTAssertEqual(message("/pkg.Other/Say"), "unknown service pkg.Other")
        XCTAssertEqual(message("no-slash"), "malformed method path 'no-slash' (expected /package.Service/Method)")
    }

    /// A plugin reloading: its service is away, and callers are told to try again.
    func testAServiceAwayIsUnavailableUntilItIsBack() throws {
        let router = Router()
        try router.register(echo, owner: "plugin-a", .synchronousUnary { request, _ in request })
        router.away(service: "pkg.Echo", reason: "plugin a is reloading; try again")
        guard case .found = router.lookup(path: "/pkg.Echo/Say") else { return XCTFail("still served until unregistered") }
        _ = router.unregisterAll(owner: "plugin-a")
        guard case .unimplemented(let away) = router.lookup(path: "/pkg.Echo/Say") else { return XCTFail() }
        XCTAssertEqual(away.code, .unavailable)
        XCTAssertEqual(away.message, "plugin a is reloading; try again")
        router.back(service: "pkg.Echo")
        guard case .unimplemented(let gone) = router.lookup(path: "/pkg.Echo/Say") else { return XCTFail() }
        XCTAssertEqual(gone.code, .unimplemented)
    }

    func testDuplicatesAreRefusedAndOwnersUnregister() throws {
        let router = Router()
        try router.register(echo, owner: "plugin-a", .synchronousUnary { request, _ in request })
        XCTAssertThrowsError(try router.register(echo, .synchronousUnary { request, _ in request })) {
            XCTAssertEqual(($0 as? RPCError)?.code, .alreadyExists)
        }
        XCTAssertTrue(router.hasService("pkg.Echo"))
        XCTAssertEqual(router.unregisterAll(owner: "plugin-a"), 1)
        XCTAssertFalse(router.hasService("pkg.Echo"))
        XCTAssertTrue(router.methods.isEmpty)
    }

    func testAServiceIsServedByOneOwnerUntilItsMethodsAreGone() throws {
        let router = Router()
        try router.register(echo, .synchronousUnary { request, _ in request })
        let added = MethodDescriptor(service: "pkg.Echo", method: "Whisper", kind: .unary)
        XCTAssertThrowsError(try router.register(added, owner: "plugin:intruder", .synchronousUnary { request, _ in request })) {
            XCTAssertEqual(($0 as? RPCError)?.code, .alreadyExists)
            XCTAssertEqual(($0 as? RPCError)?.message, "service pkg.Echo is served already (by builtin)")
        }
        guard case .unimplemented = router.lookup(path: added.path) else { return XCTFail("the method was added") }
        try router.register(added, .synchronousUnary { request, _ in request })  // its owner adds more
        XCTAssertEqual(router.unregisterAll(owner: "builtin"), 2)
        try router.register(added, owner: "plugin:next", .synchronousUnary { request, _ in request })
        XCTAssertEqual(router.methods.map(\.owner), ["plugin:next"], "free once its methods are gone")
    }

    func testHandlerErrorsDoNotLeakInternals() {
        struct SecretFailure: Error {}
        XCTAssertEqual(RPCError.from(SecretFailure()), RPCError(.internal, "internal error"))
        XCTAssertEqual(RPCError.from(CancellationError()).code, .cancelled)
        XCTAssertEqual(RPCError.from(RPCError(.notFound, "x")), RPCError(.notFound, "x"))
    }

    func testMethodPathSplitting() {
        XCTAssertEqual(echo.path, "/pkg.Echo/Say")
        XCTAssertEqual(echo.description, "pkg.Echo/Say")
        XCTAssertNil(MethodDescriptor.split(path: "/pkg.Echo/"))
        XCTAssertEqual(MethodDescriptor.split(path: "/a.B/C").map { "\($0.service)|\($0.method)" }, "a.B|C")
    }
}
