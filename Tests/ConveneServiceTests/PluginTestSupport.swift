import ConveneClient
@testable import ConvenePluginHost
import ConveneProtos
import ConveneRPC
import ConveneServer
import ConveneTransport
import Foundation
import SwiftProtobuf
import XCTest

/// What plugin tests share: the built libraries, loading one, typed calls to plugin methods.
extension Fixture {
    /// Where the plugins and fixtures are built (beside the test bundle).
    var pluginFolder: URL { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent() }

    func fixture(_ name: String) -> String { pluginFolder.appendingPathComponent("libConveneFixture_\(name).so").path }

    func loadPlugin(_ path: String) async throws -> Convene_Plugins_V1_PluginInfo {
        try await client.unary(PM.loadPlugin, Convene_Plugins_V1_LoadPluginRequest.with { $0.path = path },
                               as: Convene_Plugins_V1_PluginInfo.self, options: .bearer(try adminToken))
    }

    /// Whether the plugin named `plugin` has (within 20 s) at least `count` calls in flight,
    /// taken by its host (and sent to its runner, for an isolated one): a test whose next
    /// step needs a call in flight waits for that, not for a fixed time that a loaded
    /// machine may overrun.
    func untilInFlight(_ plugin: String, _ count: Int = 1) async -> Bool {
        await ConveneTesting.eventually(timeout: .seconds(20)) {
            (self.server.plugins.loaded.first { $0.name == plugin }?.activity.count ?? 0) >= count
        }
    }

    /// A unary plugin method called by one of the fixture's parties.
    func call<R: SwiftProtobuf.Message>(_ service: String, _ method: String, _ request: some SwiftProtobuf.Message,
                                        as: R.Type, by party: String) async throws -> R {
        try await client.unary(MethodDescriptor(service: service, method: method, kind: .unary), request, as: R.self,
                               options: options(party))
    }

    /// A Group of Friends on `operation` (I.C.2), formed by the Secretariat, with `member` in it as `kind`.
    func formGroupOfFriends(on operation: String, named name: String, member: String,
                            as kind: Convene_Friends_V1_MemberKind) async throws -> Convene_Friends_V1_Group {
        let friends = "convene.friends.v1.GroupsOfFriends"
        let group = try await call(friends, "FormGroup", Convene_Friends_V1_FormGroupRequest.with {
            $0.operationID = operation; $0.name = name
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
        return try await call(friends, "AddMember", Convene_Friends_V1_AddMemberRequest.with {
            $0.groupID = group.id; $0.partyID = ids[member]!; $0.kind = kind
        }, as: Convene_Friends_V1_Group.self, by: "Secretariat")
    }
}

/// Polls (bounded: 10 s at most) until `body` returns a value, for effects of events
/// delivered in the background.
func eventually<T>(_ body: () async throws -> T?) async throws -> T? {
    for _ in 0..<500 {
        if let value = try await body() { return value }
        try await Task.sleep(for: .milliseconds(20))
    }
    return nil
}

/// A test case with a fresh server and the fixture's parties.
class PluginTestCase: XCTestCase {
    var f: Fixture!
    /// Where plugins run in this case's server (subclasses run the same tests isolated).
    class var isolation: PluginIsolation { .inProcess }
    /// What else a case changes of its server's configuration.
    class func configure(_ configuration: inout ServerConfiguration) {}

    override func setUp() async throws {
        let isolation = Self.isolation
        // Plugins keep their own times by the system's clock: so does the server here.
        f = try await Fixture(clock: nil) { configuration in
            configuration.pluginIsolation = isolation
            Self.configure(&configuration)
        }
        try await f.registerParties()
    }

    override func tearDown() async throws {
        await f.stop()
        f.remove()
    }
}
