@testable import ConvenePluginHost
import ConveneMessages
import SwiftProtobuf
import Foundation
import NIOCore
import XCTest

/// The plugin host's parts that take untrusted input, in memory: the runner protocol's
/// decoder, the handle table, the response validator.
final class PluginHostUnitTests: XCTestCase {
    static let manifest = PluginManifest(path: "/p/lib.so", name: "n", version: "1", abiMinor: 1, service: "a.B",
                                         methods: [.init(name: "M", inputType: "a.In", outputType: "a.Out")],
                                         events: ["*"], descriptorSet: [1, 2, 3], containsSwift: true, warnings: ["w"])
    static let messages: [RunnerMessage] = [
        .call(id: 7, method: 2, caller: "party-3", roles: [1, 3], request: [9, 8, 7]),
        .event(id: 8, kind: "meeting.convened", payload: [1]),
        .abandon(id: 9),
        .reply(request: 10, status: -1, data: []),
        .unload,
        .ready(manifest),
        .loadFailed("f: no entry symbol"),
        .done(id: 11, status: 0, response: [1, 2], error: nil),
        .done(id: 12, status: 5, response: nil, error: "no such thing"),
        .request(id: 13, call: 7, .storageGet(key: [1])),
        .request(id: 14, call: 7, .storageNext(prefix: [2], after: nil)),
        .request(id: 15, call: 7, .storageNext(prefix: [2], after: [3])),
        .request(id: 16, call: 7, .callService(path: "/a.B/C", request: [4], asPlugin: true)),
        .request(id: 17, call: 7, .maySee("mtg-3")),
        .request(id: 18, call: 7, .emit(PluginEvent(subjectID: "op-1", kind: "k", description: "d"))),
        .request(id: 21, call: 7, .emit(PluginEvent(subjectID: "op-1", kind: "k", description: "d", audience: .councilSecretariatAnd(party: "party-4")))),
        .request(id: 22, call: 7, .emit(PluginEvent(subjectID: "op-1", kind: "k", description: "", audience: .contributors))),
        .request(id: 19, call: 7, .askRule(question: 3, partyID: "party-2", objectID: "op-1")),
        .request(id: 20, call: 7, .askRule(question: 1, partyID: nil, objectID: "op-1")),
        .write(call: 7, key: [1], value: nil),
        .write(call: 7, key: [1], value: [2]),
        .log(level: 3, message: "hello"),
    ]

    func decode(_ frame: ByteBuffer) throws -> RunnerMessage {
        var frame = frame
        let length = try XCTUnwrap(frame.readInteger(as: UInt32.self))
        XCTAssertEqual(Int(length), frame.readableBytes)
        return try RunnerMessage(decoding: &frame)
    }

    /// The room a method's calls make for a response follows the largest response seen,
    /// within its bounds, and never shrinks.
    func testTheResponseRoomGrowsToTheLargestResponseWithinItsBounds() {
        let room = ResponseRoom()
        XCTAssertEqual(room.capacity, ResponseRoom.minimum)
        room.note(size: 10)
        XCTAssertEqual(room.capacity, ResponseRoom.minimum, "a small response leaves the room as it is")
        room.note(size: 3_000)
        XCTAssertEqual(room.capacity, 3_000)
        room.note(size: 1_000)
        XCTAssertEqual(room.capacity, 3_000, "it never shrinks")
        room.note(size: ResponseRoom.maximum + 1)
        XCTAssertEqual(room.capacity, 3_000, "a response beyond the largest room is not made room for")
        room.note(size: ResponseRoom.maximum)
        XCTAssertEqual(room.capacity, ResponseRoom.maximum)
        room.note(size: -1)
        XCTAssertEqual(room.capacity, ResponseRoom.maximum)
    }

    func testEveryRunnerMessageRoundTrips() throws {
        for message in Self.messages {
            XCTAssertEqual(try decode(message.frame()), message)
        }
    }

    /// An ask_rule answer crosses the runner's connection whole, and a malformed one reads as "cannot tell".
    func testEveryMessageARunnerSendsWithinTheHostLimitsPassesAndEachOnePastThemIsNamed() {
        for message in Self.messages {
            XCTAssertNil(message.runnerViolation, "\(message)")
        }
        let text = String(repeating: "t", count: HostLimits.maxEventText + 1)
        let id = String(repeating: "9", count: HostLimits.maxID + 1)
        let key = [UInt8](repeating: 1, count: HostLimits.maxKey + 1)
        let over: [(RunnerMessage, String)] = [
            (.done(id: 1, status: 0, response: [UInt8](repeating: 0, count: HostLimits.maxResponse + 1), error: nil),
             "a response of \(HostLimits.maxResponse + 1) bytes"),
            (.done(id: 1, status: 2, response: nil, error: text), "an error message of \(text.utf8.count) bytes"),
            (.log(level: 0, message: text), "logged \(text.utf8.count) bytes"),
            (.write(call: 1, key: key, value: nil), "a key of \(key.count) bytes"),
            (.write(call: 1, key: [], value: [1]), "a key of 0 bytes"),
            (.write(call: 1, key: [1], value: [UInt8](repeating: 0, count: HostLimits.maxValue + 1)), "with a value of \(HostLimits.maxValue + 1)"),
            (.request(id: 1, call: 1, .storageGet(key: key)), "a key of \(key.count) bytes"),
            (.request(id: 1, call: 1, .storageNext(prefix: key, after: nil)), "a prefix of \(key.count) bytes"),
            (.request(id: 1, call: 1, .storageNext(prefix: [], after: key)), "a key of \(key.count) bytes"),
            (.request(id: 1, call: 1, .callService(path: String(repeating: "/", count: HostLimits.maxText + 1), request: [], asPlugin: false)),
             "a method path of \(HostLimits.maxText + 1) bytes"),
            (.request(id: 1, call: 1, .maySee(id)), "an object id of \(id.utf8.count) bytes"),
            (.request(id: 1, call: 1, .askRule(question: 1, partyID: id, objectID: "op-1")), "a party id of \(id.utf8.count) bytes"),
            (.request(id: 1, call: 1, .askRule(question: 1, partyID: nil, objectID: id)), "an object id of \(id.utf8.count) bytes"),
            (.request(id: 1, call: 1, .emit(PluginEvent(subjectID: id, kind: "k", description: ""))), "an event's subject"),
            (.request(id: 1, call: 1, .emit(PluginEvent(subjectID: "op-1", kind: String(repeating: "k", count: HostLimits.maxEventKind + 1), description: ""))),
             "an event's kind"),
            (.request(id: 1, call: 1, .emit(PluginEvent(subjectID: "op-1", kind: "k", description: text))), "an event's description"),
            (.request(id: 1, call: 1, .emit(PluginEvent(subjectID: "op-1", kind: "k", description: "", audience: .councilSecretariatAnd(party: id)))),
             "an event's audience"),
        ]
        for (message, expected) in over {
            let violation = message.runnerViolation
            XCTAssertTrue(violation?.contains(expected) == true, "\(expected): \(violation ?? "nil")")
        }
    }

    func testAManifestFromARunnerIsHeldToTheRulesOfADescriptor() {
        XCTAssertNil(Self.manifest.problem)
        func with(_ change: (inout PluginManifest) -> Void) -> String? {
            var manifest = Self.manifest
            change(&manifest)
            return manifest.problem
        }
        XCTAssertEqual(with { $0.name = "" }, "name must be 1 to 100 letters, digits, '.', '_' or '-'")
        XCTAssertEqual(with { $0.name = "a/b" }, "name must be 1 to 100 letters, digits, '.', '_' or '-'")
        XCTAssertEqual(with { $0.name = String(repeating: "n", count: 101) }, "name must be 1 to 100 letters, digits, '.', '_' or '-'")
        XCTAssertEqual(with { $0.name = "bad name" }, "name must be 1 to 100 letters, digits, '.', '_' or '-'")
        XCTAssertNil(with { $0.name = "Groups-of_friends.2" })
        // Names reach logs and `convene plugins`: no line breaks, nothing that was not UTF-8.
        let control = "a name, type or event holds a control character or bytes that are not UTF-8"
        XCTAssertEqual(with { $0.name = "bad\nname level=critical" }, control)
        XCTAssertEqual(with { $0.service = "review.v1.Bad\u{FFFD}" }, control)
        XCTAssertEqual(with { $0.methods[0].name = "Do\r" }, control)
        XCTAssertEqual(with { $0.events = ["meeting.convened\u{7}"] }, control)
        XCTAssertEqual(with { $0.service = "" }, "service '' is not a fully qualified name")
        XCTAssertEqual(with { $0.service = "a.B/C" }, "service 'a.B/C' is not a fully qualified name")
        XCTAssertEqual(with { $0.methods[0].name = "" }, "a method name is empty or holds '/'")
        XCTAssertEqual(with { $0.methods[0].outputType = String(repeating: "t", count: 1001) }, "a name or type is over 1000 bytes")
        XCTAssertEqual(with { $0.methods = Array(repeating: $0.methods[0], count: 1001) }, "more than 1000 methods or events")
        XCTAssertEqual(with { $0.descriptorSet = [UInt8](repeating: 0, count: (16 << 20) + 1) }, "descriptor_set_len is over 16 MiB")
    }

    /// A plugin's event is never taken for the server's, and its kind is one word or a dotted name.
    func testAPluginEventsKindIsItsOwn() {
        let reserved: Set<String> = ["meeting", "operation"]
        func allowed(_ kind: String) -> Bool { PluginEvent(subjectID: "op-1", kind: kind, description: "").hasPluginKind(reserved: reserved) }
        for kind in ["friends.group_formed", "imtf.formed", "a-b.c_d1", "recon"] { XCTAssertTrue(allowed(kind), kind) }
        for kind in ["meeting.convened", "meeting.custom", "operation", "", "bad\nkind", "Friends.x", "x..y", ".x", "x.", "x y"] {
            XCTAssertFalse(allowed(kind), kind)
        }
    }

    /// A plugin's text stays on its line of the server's log.
    func testAPluginsLogTextHasItsControlCharactersEscaped() {
        XCTAssertEqual("line\n2026-12-02 critical convened: FORGED\r\t\u{1B}[31m".escapingControlCharacters,
                       "line\\n2026-12-02 critical convened: FORGED\\r\\t\\u{1B}[31m")
        XCTAssertEqual("plain ünïcode".escapingControlCharacters, "plain ünïcode")
    }

    func testARuleAnswerRoundTripsAndAMalformedOneCannotTell() {
        let answer = RuleAnswer(value: 1, provision: "II.B.3(e)", reason: "a country making specific contributions")
        XCTAssertEqual(RuleAnswer(wire: answer.wire, value: 1), answer)
        XCTAssertEqual(RuleAnswer(wire: [0, 0, 0, 9, 1], value: 1).value, -1)
        XCTAssertEqual(RuleAnswer(wire: answer.wire + [0], value: 1).value, -1, "trailing bytes")
    }

    func testACutOrCorruptFrameIsAnErrorNeverACrash() throws {
        for message in Self.messages {
            let frame = message.frame()
            let bytes = Array(frame.readableBytesView)
            // Every shorter body (the length adjusted to match) is refused.
            for cut in 5..<bytes.count {
                var body = ByteBuffer(bytes: bytes[4..<cut])
                XCTAssertThrowsError(try RunnerMessage(decoding: &body), "\(message) cut at \(cut)")
            }
        }
        // Random bodies (bounded): decoded or refused, never a trap.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 1...64, using: &generator)
            var body = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
            if Bool.random(using: &generator) { body.setInteger(UInt8.random(in: 1...15), at: 0) }
            _ = try? RunnerMessage(decoding: &body)
        }
    }

    func testAFrameOverTheLimitEndsTheConnection() throws {
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
        let reader = RunnerChannel(descriptor: pair[0])
        var huge = UInt32(RunnerMessage.maxFrame + 1).bigEndian
        XCTAssertEqual(write(pair[1], &huge, 4), 4)
        XCTAssertThrowsError(try reader.receive())
        close(pair[1])
    }

    func testHandlesOfEndedCallsAreStaleAndForgedOnesUnknown() {
        final class Box {}
        let table = HandleTable<Box>()
        let handle = table.insert(Box(), owner: "p")
        guard case .live = table.resolve(handle) else { return XCTFail("live") }
        table.remove(handle)
        guard case .stale(let owner) = table.resolve(handle) else { return XCTFail("stale") }
        XCTAssertEqual(owner, "p")
        let again = table.insert(Box(), owner: "q")
        XCTAssertNotEqual(again, handle, "a slot reused gets a new generation")
        guard case .stale(let stillOwner) = table.resolve(handle) else { return XCTFail("the old handle stays stale") }
        XCTAssertEqual(stillOwner, "p", "the plugin that held it is named, not the slot's next holder")
        for forged in [nil, OpaquePointer(bitPattern: 0x1), OpaquePointer(bitPattern: 0xDEAD_0000_0001)] {
            guard case .unknown = table.resolve(forged) else { return XCTFail("\(String(describing: forged))") }
        }
    }

    /// A live handle is not guessed from another: its tag is drawn afresh, not counted on
    /// from the slot's last one (a plugin scanning small generations found another's call).
    func testALiveHandleIsNotFoundByCountingFromAnother() {
        final class Box {}
        let table = HandleTable<Box>()
        var tags: Set<UInt32> = []
        for _ in 0..<64 {
            let mine = table.insert(Box(), owner: "attacker")
            table.remove(mine)
            let theirs = table.insert(Box(), owner: "victim")  // the slot the attacker's call just left
            let raw = UInt64(UInt(bitPattern: mine)), slot = raw >> 32
            for step in UInt64(1)...8 {
                let guess = slot << 32 | ((raw &+ step) & 0xFFFF_FFFF)
                if case .live = table.resolve(OpaquePointer(bitPattern: UInt(guess))) {
                    XCTFail("found the victim's handle by counting on from its own")
                }
            }
            tags.insert(UInt32(truncatingIfNeeded: UInt64(UInt(bitPattern: theirs))))
            table.remove(theirs)
        }
        XCTAssertGreaterThan(tags.count, 60, "tags are drawn afresh")
    }

    func testTheValidatorChecksNestedMessagesAndPackedFields() throws {
        // message Reply { string text = 1; int64 number = 2; repeated Reply nested = 3; repeated int32 packed = 4; }
        var file = Google_Protobuf_FileDescriptorProto()
        file.package = "t"
        file.messageType = [.with {
            $0.name = "Reply"
            $0.field = [
                .with { $0.name = "text"; $0.number = 1; $0.type = .string; $0.label = .optional },
                .with { $0.name = "number"; $0.number = 2; $0.type = .int64; $0.label = .optional },
                .with { $0.name = "nested"; $0.number = 3; $0.type = .message; $0.typeName = ".t.Reply"; $0.label = .repeated },
                .with { $0.name = "packed"; $0.number = 4; $0.type = .int32; $0.label = .repeated },
            ]
        }]
        let validator = WireValidator(descriptorSet: try Google_Protobuf_FileDescriptorSet.with { $0.file = [file] }.serializedBytes())
        XCTAssertTrue(validator.describes("t.Reply"))
        XCTAssertNil(validator.problem(in: [0x0A, 0x01, 0x41, 0x10, 0x05, 0x1A, 0x03, 0x0A, 0x01, 0x42, 0x22, 0x02, 0x01, 0x02], as: "t.Reply"))
        XCTAssertNil(validator.problem(in: [0x28, 0x01], as: "t.Reply"), "an unknown field is fine")
        XCTAssertNotNil(validator.problem(in: [0x1A, 0x02, 0x0A, 0x05], as: "t.Reply"), "a nested message cut off")
        XCTAssertNotNil(validator.problem(in: [0x1A, 0x01, 0x10], as: "t.Reply"), "a nested varint cut off")
        XCTAssertNotNil(validator.problem(in: [0x22, 0x01, 0x80], as: "t.Reply"), "a packed varint cut off")
        XCTAssertNotNil(validator.problem(in: [0x12, 0x01, 0x01], as: "t.Reply"), "a singular int64 packed")
        // 100 messages, one in another, are fine (as DynamicCodec decodes them); past that it
        // is refused, not recursed into without bound.
        func nested(_ levels: Int) -> [UInt8] {
            var message: [UInt8] = []
            for _ in 0..<levels {
                var length = message.count, varint: [UInt8] = []
                repeat {
                    varint.append(UInt8(length & 0x7F) | (length >= 0x80 ? 0x80 : 0))
                    length >>= 7
                } while length > 0
                message = [0x1A] + varint + message
            }
            return message
        }
        XCTAssertNil(validator.problem(in: nested(99), as: "t.Reply"))
        XCTAssertEqual(validator.problem(in: nested(100), as: "t.Reply"), "messages nested more than 100 deep")
        XCTAssertEqual(validator.problem(in: nested(150), as: "t.Reply"), "messages nested more than 100 deep")

        // A request's texts are also a party's texts: named by their path when they are not.
        let reply = try XCTUnwrap(validator.type(named: "t.Reply"))
        func request(_ bytes: [UInt8]) -> WireValidator.RequestProblem? {
            validator.requestProblem(in: ByteBuffer(bytes: bytes), as: reply)
        }
        XCTAssertNil(request([0x0A, 0x03, 0x41, 0x09, 0x0A]), "tabs and line breaks are text")
        XCTAssertNil(request([0x0A, 0x02, 0xC3, 0xA9]), "é")
        XCTAssertEqual(request([0x0A, 0x02, 0x41, 0x1B]), .text(field: "text", "contains the control character U+001B"))
        XCTAssertEqual(request([0x1A, 0x05, 0x1A, 0x03, 0x0A, 0x01, 0x00]),
                       .text(field: "nested.nested.text", "contains the control character U+0000"))
        XCTAssertEqual(request([0x0A, 0x03, 0xE2, 0x80, 0xAE]), .text(field: "text", "contains the control character U+202E"),
                       "a right-to-left override")
        XCTAssertEqual(request([0x0A, 0x02, 0xC2, 0x85]), .text(field: "text", "contains the control character U+0085"))
        XCTAssertEqual(request([0x1A, 0x03, 0x0A, 0x01, 0xFF]), .text(field: "nested.text", "is not UTF-8"))
        XCTAssertEqual(request([0x0A, 0x05, 0x41]), .malformed("field 1 is cut off"))
        XCTAssertNil(request([0x2A, 0x01, 0x1B]), "an unknown field's bytes are not read as text")

        // ... and fields the type does not declare never reach the plugin: nobody checks their
        // texts. Declared fields are kept as they came, nested messages rewritten without theirs.
        func checked(_ bytes: [UInt8]) -> WireValidator.CheckedRequest {
            validator.checkedRequest(ByteBuffer(bytes: bytes), as: reply)
        }
        XCTAssertEqual(checked([0x0A, 0x01, 0x41, 0x10, 0x05]), .asSent)
        XCTAssertEqual(checked([0x0A, 0x01, 0x41, 0x2A, 0x02, 0x1B, 0x5B, 0x10, 0x05]), .stripped([0x0A, 0x01, 0x41, 0x10, 0x05]))
        XCTAssertEqual(checked([0x1A, 0x06, 0x0A, 0x01, 0x42, 0x32, 0x01, 0x1B, 0x38, 0x07]), .stripped([0x1A, 0x03, 0x0A, 0x01, 0x42]),
                       "an unknown field of a nested message, and an unknown varint field after it")
        XCTAssertEqual(checked([0x3B, 0x0A, 0x01, 0x1B, 0x3C, 0x10, 0x01]), .stripped([0x10, 0x01]), "an unknown group")
        XCTAssertEqual(checked([0x5D, 1, 2, 3, 4, 0x59, 1, 2, 3, 4, 5, 6, 7, 8]), .stripped([]), "unknown fixed fields")
        // Deep down, with lengths of one byte and of two: each level's length is the stripped one.
        func wrapped(_ levels: Int, around inner: [UInt8]) -> [UInt8] {
            var message = inner
            for _ in 0..<levels {
                var length = message.count, varint: [UInt8] = []
                repeat {
                    varint.append(UInt8(length & 0x7F) | (length >= 0x80 ? 0x80 : 0))
                    length >>= 7
                } while length > 0
                message = [0x1A] + varint + message
            }
            return message
        }
        let text: [UInt8] = [0x0A, 0x01, 0x41]
        let unknown: [UInt8] = [0x2A, 0x7F] + [UInt8](repeating: 0x1B, count: 0x7F)
        XCTAssertEqual(checked(wrapped(90, around: text + unknown)), .stripped(wrapped(90, around: text)))
    }
}

import SwiftProtobuf

/// A plugin's descriptor set names things as protobuf does (`DescriptorNames`).
final class DescriptorNamesTests: XCTestCase {
    private func set(message: String = "Reply", field: String = "text", typeName: String = ".t.Reply",
                     file: String = "t.proto") -> Google_Protobuf_FileDescriptorSet {
        .with {
            $0.file = [.with {
                $0.name = file
                $0.package = "t"
                $0.messageType = [.with {
                    $0.name = message
                    $0.field = [.with { $0.name = field; $0.number = 1; $0.type = .message; $0.typeName = typeName }]
                    $0.nestedType = [.with { $0.name = "Inner_2" }]
                }]
                $0.service = [.with { $0.name = "S"; $0.method = [.with { $0.name = "Call"; $0.inputType = ".t.Reply"; $0.outputType = "t.Reply" }] }]
            }]
        }
    }

    func testProtobufNamesPassAndControlCharactersDoNot() throws {
        XCTAssertNil(DescriptorNames.problem(in: set()))
        XCTAssertNil(DescriptorNames.problem(in: try Google_Protobuf_FileDescriptorSet(serializedBytes: ConveneDescriptorSet.bytes)),
                     "the server's own set")
        XCTAssertEqual(DescriptorNames.problem(in: set(field: "\u{202E}\u{7}weird")),
                       "field name '\\u{202E}\\u{07}weird' in t.proto is not a protobuf identifier")
        XCTAssertNotNil(DescriptorNames.problem(in: set(message: "2fast")))
        XCTAssertNotNil(DescriptorNames.problem(in: set(message: "")))
        XCTAssertNotNil(DescriptorNames.problem(in: set(typeName: ".t..Reply")))
        XCTAssertNotNil(DescriptorNames.problem(in: set(file: "t\n.proto")))
    }

    /// A descriptor set that leaves out what the plugin serves (a service renamed in the code
    /// but not in its .proto, a method or a type missing) loads with a warning naming it.
    func testADescriptorSetThatLeavesOutWhatThePluginServesIsNamedInAWarning() throws {
        let bytes = try set().serializedBytes() as [UInt8]
        func method(_ name: String = "Call", input: String = "t.Reply", output: String = "t.Reply.Inner_2") -> PluginManifest.Method {
            .init(name: name, inputType: input, outputType: output)
        }
        XCTAssertNil(DescriptorCoverage.gap(service: "t.S", methods: [method()], in: bytes), "nested types are described too")
        XCTAssertEqual(DescriptorCoverage.gap(service: "t.Renamed", methods: [method()], in: bytes),
                       "its descriptor set does not describe its service t.Renamed (it describes t.S): reflection and the CLI cannot describe its methods")
        let gap = try XCTUnwrap(DescriptorCoverage.gap(service: "t.S", methods: [method(), method("Other", input: "t.Missing")], in: bytes))
        XCTAssertTrue(gap.contains("method Other of t.S or type t.Missing"), gap)
        XCTAssertNil(DescriptorCoverage.gap(service: "t.S", methods: [], in: [0xFF]), "not a set: the loader refuses it")
    }
}
