import ConveneRPC
import Foundation
import NIOCore

/// The messages between the server and a plugin runner process (process isolation). A
/// frame is its length (u32, big-endian, of what follows, at most `maxFrame`), a type byte
/// and the fields: integers big-endian, strings and bytes as a u32 length and the bytes.
/// Both ends decode what they read as untrusted: a malformed frame ends the connection.
enum RunnerMessage: Equatable, Sendable {
    // Server to runner.
    case call(id: UInt64, method: UInt32, caller: String, roles: [Int32], request: [UInt8])
    case event(id: UInt64, kind: String, payload: [UInt8])
    /// The server stopped waiting for a call: its thread may be replaced.
    case abandon(id: UInt64)
    case reply(request: UInt64, status: Int32, data: [UInt8])
    /// Call on_unload (nothing runs) and exit.
    case unload

    // Runner to server.
    case ready(PluginManifest)
    case loadFailed(String)
    case done(id: UInt64, status: Int32, response: [UInt8]?, error: String?)
    case request(id: UInt64, call: UInt64, HostRequest)
    /// A storage write of a call (nil value: delete); answered by nothing.
    case write(call: UInt64, key: [UInt8], value: [UInt8]?)
    case log(level: UInt8, message: String)

    static let maxFrame = 96 << 20
}

/// A host function a plugin called in a runner, carried out by the server.
enum HostRequest: Equatable, Sendable {
    case storageGet(key: [UInt8])
    case storageNext(prefix: [UInt8], after: [UInt8]?)
    case callService(path: String, request: [UInt8], asPlugin: Bool)
    case maySee(String)
    case emit(PluginEvent)
    case askRule(question: Int32, partyID: String?, objectID: String)
}

extension RuleAnswer {
    /// The provision and the reason as a reply's data: each a u32 length and its UTF-8.
    var wire: [UInt8] {
        var buffer = ByteBuffer()
        buffer.put(provision)
        buffer.put(reason)
        return Array(buffer: buffer)
    }

    /// An answer from a reply (`value` its status); the data, from the server, is checked all the same.
    init(wire: [UInt8], value: Int32) {
        var buffer = ByteBuffer(bytes: wire)
        guard let provision = buffer.text(), let reason = buffer.text(), buffer.readableBytes == 0 else {
            self = .cannot("malformed answer")
            return
        }
        self.init(value: value, provision: provision, reason: reason)
    }
}

struct RunnerProtocolError: Error, CustomStringConvertible {
    let description: String
}

extension RunnerMessage {
    private enum Tag: UInt8 {
        case call = 1, event, abandon, reply, unload
        case ready = 10, loadFailed, done, request, write, log
    }

    /// The whole frame, length first.
    func frame() -> ByteBuffer {
        var frame = ByteBuffer()
        write(to: &frame)
        return frame
    }

    /// Appends the whole frame, length first, to `buffer` (a channel's pending output: no
    /// buffer of its own to allocate and copy).
    func write(to buffer: inout ByteBuffer) {
        switch self {
        case .call(let id, let method, let caller, let roles, let request):
            return RunnerFrameWriter.call(id: id, method: method, caller: caller, roles: roles, request: request, to: &buffer,
                                          tag: Tag.call.rawValue)
        case .done(let id, let status, let response, let error):
            return RunnerFrameWriter.done(id: id, status: status, response: response, error: error, to: &buffer, tag: Tag.done.rawValue)
        default:
            break
        }
        writeFields(to: &buffer)
    }

    /// The frame written field by field (every message; the two of every call have `RunnerFrameWriter`).
    func writeFields(to buffer: inout ByteBuffer) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        writeBody(to: &buffer)
        buffer.setInteger(UInt32(buffer.writerIndex - start - 4), at: start)
    }

    private func writeBody(to body: inout ByteBuffer) {
        switch self {
        case .call(let id, let method, let caller, let roles, let request):
            body.writeInteger(Tag.call.rawValue)
            body.writeMultipleIntegers(id, method)
            body.put(caller)
            body.writeInteger(UInt32(roles.count))
            for role in roles { body.writeInteger(role) }
            body.put(request)
        case .event(let id, let kind, let payload):
            body.writeInteger(Tag.event.rawValue)
            body.writeInteger(id)
            body.put(kind)
            body.put(payload)
        case .abandon(let id):
            body.writeInteger(Tag.abandon.rawValue)
            body.writeInteger(id)
        case .reply(let request, let status, let data):
            body.writeInteger(Tag.reply.rawValue)
            body.writeMultipleIntegers(request, status)
            body.put(data)
        case .unload:
            body.writeInteger(Tag.unload.rawValue)
        case .ready(let manifest):
            body.writeInteger(Tag.ready.rawValue)
            for text in [manifest.path, manifest.name, manifest.version, manifest.service] { body.put(text) }
            body.writeMultipleIntegers(manifest.abiMinor, UInt8(manifest.containsSwift ? 1 : 0), UInt32(manifest.methods.count))
            for method in manifest.methods { for text in [method.name, method.inputType, method.outputType] { body.put(text) } }
            body.putList(manifest.events)
            body.put(manifest.descriptorSet)
            body.putList(manifest.warnings)
        case .loadFailed(let reason):
            body.writeInteger(Tag.loadFailed.rawValue)
            body.put(reason)
        case .done(let id, let status, let response, let error):
            body.writeInteger(Tag.done.rawValue)
            body.writeMultipleIntegers(id, status)
            body.putOptional(response)
            body.putOptional(error.map { Array($0.utf8) })
        case .request(let id, let call, let request):
            body.writeInteger(Tag.request.rawValue)
            body.writeMultipleIntegers(id, call)
            switch request {
            case .storageGet(let key):
                body.writeInteger(UInt8(1))
                body.put(key)
            case .storageNext(let prefix, let after):
                body.writeInteger(UInt8(2))
                body.put(prefix)
                body.putOptional(after)
            case .callService(let path, let request, let asPlugin):
                body.writeInteger(UInt8(3))
                body.put(path)
                body.put(request)
                body.writeInteger(UInt8(asPlugin ? 1 : 0))
            case .maySee(let id):
                body.writeInteger(UInt8(4))
                body.put(id)
            case .emit(let event):
                body.writeInteger(UInt8(5))
                for text in [event.subjectID, event.kind, event.description] { body.put(text) }
                body.writeInteger(event.audience.code)
                body.putOptional(event.audience.partyID.map { Array($0.utf8) })
            case .askRule(let question, let partyID, let objectID):
                body.writeInteger(UInt8(6))
                body.writeInteger(question)
                body.putOptional(partyID.map { Array($0.utf8) })
                body.put(objectID)
            }
        case .write(let call, let key, let value):
            body.writeInteger(Tag.write.rawValue)
            body.writeInteger(call)
            body.put(key)
            body.putOptional(value)
        case .log(let level, let message):
            body.writeInteger(Tag.log.rawValue)
            body.writeInteger(level)
            body.put(message)
        }
    }

    /// Decodes one frame's body (after its length).
    /// The next whole frame's message at `buffer`'s reader index, read past; nil (nothing read)
    /// when the frame is not whole yet. Throws on a length past `maxFrame`, before waiting for it.
    static func take(from buffer: inout ByteBuffer) throws -> RunnerMessage? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard Int(length) <= maxFrame else { throw RunnerProtocolError(description: "a frame of \(length) bytes is over the limit") }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        guard var body = buffer.readSlice(length: Int(length)) else { return nil }
        return try RunnerMessage(decoding: &body)
    }

    init(decoding body: inout ByteBuffer) throws {
        func bad(_ what: String) -> RunnerProtocolError { RunnerProtocolError(description: "malformed \(what) message") }
        guard let raw = body.readInteger(as: UInt8.self), let tag = Tag(rawValue: raw) else {
            throw RunnerProtocolError(description: "unknown message type")
        }
        switch tag {
        case .call:
            guard let (id, method) = body.readMultipleIntegers(as: (UInt64, UInt32).self), let caller = body.text(),
                  let count = body.readInteger(as: UInt32.self), count <= 64 else { throw bad("call") }
            var roles: [Int32] = []
            for _ in 0..<count {
                guard let role = body.readInteger(as: Int32.self) else { throw bad("call") }
                roles.append(role)
            }
            guard let request = body.bytes() else { throw bad("call") }
            self = .call(id: id, method: method, caller: caller, roles: roles, request: request)
        case .event:
            guard let id = body.readInteger(as: UInt64.self), let kind = body.text(), let payload = body.bytes() else { throw bad("event") }
            self = .event(id: id, kind: kind, payload: payload)
        case .abandon:
            guard let id = body.readInteger(as: UInt64.self) else { throw bad("abandon") }
            self = .abandon(id: id)
        case .reply:
            guard let (request, status) = body.readMultipleIntegers(as: (UInt64, Int32).self), let data = body.bytes() else {
                throw bad("reply")
            }
            self = .reply(request: request, status: status, data: data)
        case .unload:
            self = .unload
        case .ready:
            guard let path = body.text(), let name = body.text(), let version = body.text(), let service = body.text(),
                  let (abiMinor, swift, count) = body.readMultipleIntegers(as: (UInt32, UInt8, UInt32).self), count <= 1000
            else { throw bad("ready") }
            var methods: [PluginManifest.Method] = []
            for _ in 0..<count {
                guard let method = body.text(), let input = body.text(), let output = body.text() else { throw bad("ready") }
                methods.append(PluginManifest.Method(name: method, inputType: input, outputType: output))
            }
            guard let events = body.list(), let set = body.bytes(), let warnings = body.list() else { throw bad("ready") }
            self = .ready(PluginManifest(path: path, name: name, version: version, abiMinor: abiMinor, service: service,
                                         methods: methods, events: events, descriptorSet: set, containsSwift: swift != 0,
                                         warnings: warnings))
        case .loadFailed:
            guard let reason = body.text() else { throw bad("load failure") }
            self = .loadFailed(reason)
        case .done:
            guard let (id, status) = body.readMultipleIntegers(as: (UInt64, Int32).self), let response = body.optionalBytes(),
                  let error = body.optionalBytes() else { throw bad("done") }
            self = .done(id: id, status: status, response: response, error: error.map { String(decoding: $0, as: UTF8.self) })
        case .request:
            guard let (id, call, kind) = body.readMultipleIntegers(as: (UInt64, UInt64, UInt8).self) else { throw bad("request") }
            let request: HostRequest
            switch kind {
            case 1:
                guard let key = body.bytes() else { throw bad("request") }
                request = .storageGet(key: key)
            case 2:
                guard let prefix = body.bytes(), let after = body.optionalBytes() else { throw bad("request") }
                request = .storageNext(prefix: prefix, after: after)
            case 3:
                guard let path = body.text(), let bytes = body.bytes(), let asPlugin = body.readInteger(as: UInt8.self) else {
                    throw bad("request")
                }
                request = .callService(path: path, request: bytes, asPlugin: asPlugin != 0)
            case 4:
                guard let id = body.text() else { throw bad("request") }
                request = .maySee(id)
            case 5:
                guard let subject = body.text(), let kind = body.text(), let description = body.text(),
                      let code = body.readInteger(as: Int32.self), let party = body.optionalBytes(),
                      let audience = PluginEventAudience(code: code, partyID: party.map { String(decoding: $0, as: UTF8.self) })
                else { throw bad("request") }
                request = .emit(PluginEvent(subjectID: subject, kind: kind, description: description, audience: audience))
            case 6:
                guard let question = body.readInteger(as: Int32.self), let party = body.optionalBytes(), let object = body.text() else {
                    throw bad("request")
                }
                request = .askRule(question: question, partyID: party.map { String(decoding: $0, as: UTF8.self) }, objectID: object)
            default:
                throw bad("request")
            }
            self = .request(id: id, call: call, request)
        case .write:
            guard let call = body.readInteger(as: UInt64.self), let key = body.bytes(), let value = body.optionalBytes() else {
                throw bad("write")
            }
            self = .write(call: call, key: key, value: value)
        case .log:
            guard let level = body.readInteger(as: UInt8.self), let message = body.text() else { throw bad("log") }
            self = .log(level: level, message: message)
        }
        guard body.readableBytes == 0 else { throw bad("trailing bytes in a") }
    }
}

extension ByteBuffer {
    fileprivate mutating func put(_ bytes: [UInt8]) {
        writeInteger(UInt32(bytes.count))
        writeBytes(bytes)
    }

    fileprivate mutating func put(_ text: String) {
        writeInteger(UInt32(text.utf8.count))
        writeString(text)
    }

    fileprivate mutating func putOptional(_ bytes: [UInt8]?) {
        writeInteger(UInt8(bytes == nil ? 0 : 1))
        if let bytes { put(bytes) }
    }

    fileprivate mutating func putList(_ texts: [String]) {
        writeInteger(UInt32(texts.count))
        for text in texts { put(text) }
    }

    fileprivate mutating func bytes() -> [UInt8]? {
        guard let length = getInteger(at: readerIndex, as: UInt32.self), Int(length) <= readableBytes - 4 else { return nil }
        moveReaderIndex(forwardBy: 4)
        return readBytes(length: Int(length))
    }

    fileprivate mutating func text() -> String? {
        guard let length = getInteger(at: readerIndex, as: UInt32.self), Int(length) <= readableBytes - 4 else { return nil }
        moveReaderIndex(forwardBy: 4)
        return readString(length: Int(length))
    }

    /// nil when malformed; .some(nil) when absent.
    fileprivate mutating func optionalBytes() -> [UInt8]?? {
        guard let present = readInteger(as: UInt8.self), present <= 1 else { return nil }
        guard present == 1 else { return .some(nil) }
        guard let bytes = bytes() else { return nil }
        return .some(bytes)
    }

    fileprivate mutating func list() -> [String]? {
        guard let count = readInteger(as: UInt32.self), count <= 1000 else { return nil }
        var texts: [String] = []
        for _ in 0..<count {
            guard let text = text() else { return nil }
            texts.append(text)
        }
        return texts
    }
}
