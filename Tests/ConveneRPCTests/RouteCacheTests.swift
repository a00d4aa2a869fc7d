import ConveneRPC
import ConveneWire
import NIOCore
import XCTest

/// A connection's `RouteCache` admits a method it called before without the router's lock:
/// every change of the router's table must reach it at the next call.
final class RouteCacheTests: XCTestCase {
    let echo = MethodDescriptor(service: "pkg.Echo", method: "Say", kind: .unary)

    /// Grants scope "s" to the credential "ok", decided from memory.
    final class TestAuthorizer: CallAuthorizer {
        func decide(scope: String, metadata: Metadata) -> Result<Void, RPCError>? {
            metadata["authorization"] == "ok" ? .success(()) : .failure(RPCError(.permissionDenied, "not ok"))
        }
        func authorize(scope: String, metadata: Metadata) async throws {
            try decide(scope: scope, metadata: metadata)?.get()
        }
    }

    private func admitted(_ router: Router, _ path: String, _ cache: inout RouteCache,
                          _ metadata: Metadata = Metadata()) -> Result<RegisteredMethod, RPCError> {
        switch router.admit(path: path, metadata: metadata, cache: &cache) {
        case .run(let method): .success(method)
        case .refuse(let error, _): .failure(error)
        }
    }

    func testACachedRouteFollowsEveryChangeOfTheTable() throws {
        let router = Router()
        var cache = RouteCache()
        try router.register(echo, owner: "plugin-a", .synchronousUnary { request, _ in request })
        let first = try admitted(router, echo.path, &cache).get()
        XCTAssertTrue(try admitted(router, echo.path, &cache).get() === first, "a second call finds the same method")

        // Unloaded: the cached route is gone at the next call.
        router.unregisterAll(owner: "plugin-a")
        XCTAssertEqual(admitted(router, echo.path, &cache).failure?.code, .unimplemented)

        // Loaded again: the new registration answers, not the old one.
        try router.register(echo, owner: "plugin-b", .synchronousUnary { request, _ in request })
        let second = try admitted(router, echo.path, &cache).get()
        XCTAssertFalse(second === first)
        XCTAssertEqual(second.owner, "plugin-b")

        // A scope required after the route was cached applies to the next call.
        router.require(scope: "s", forService: "pkg.Echo")
        let refused = admitted(router, echo.path, &cache).failure
        XCTAssertEqual(refused?.code, .permissionDenied)
        XCTAssertEqual(refused?.message, "pkg.Echo requires a credential, and this server authorizes none")

        // So does an authorizer set later, and it decides on every call.
        router.setAuthorizer(TestAuthorizer())
        XCTAssertEqual(admitted(router, echo.path, &cache, Metadata(["authorization": "no"])).failure?.message, "not ok")
        XCTAssertEqual(try admitted(router, echo.path, &cache, Metadata(["authorization": "ok"])).get().scope, "s")
        XCTAssertEqual(admitted(router, echo.path, &cache, Metadata(["authorization": "no"])).failure?.message, "not ok")
    }

    func testEachPathKeepsItsOwnMethodBeyondTheCacheSize() throws {
        let router = Router()
        var cache = RouteCache()
        let methods = (0..<20).map { MethodDescriptor(service: "pkg.Many", method: "M\($0)", kind: .unary) }
        for method in methods { try router.register(method, .synchronousUnary { request, _ in request }) }
        for round in 0..<3 {
            for method in methods.shuffled() {
                XCTAssertEqual(try admitted(router, method.path, &cache).get().descriptor, method, "round \(round)")
            }
            XCTAssertEqual(admitted(router, "/pkg.Many/Missing", &cache).failure?.code, .unimplemented)
        }
    }
}

private extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
