import Synchronization
import NIOCore

/// How a method is served.
public enum MethodHandler: Sendable {
    /// Unary, answered synchronously on the connection's event loop. Must not block.
    case synchronousUnary(@Sendable (_ request: ByteBuffer, _ context: inout UnaryContext) throws -> ByteBuffer)
    /// Any kind, run as a task off the event loop. For unary-request kinds the stream
    /// holds exactly one message (the transport enforces it).
    case asynchronous(@Sendable (_ requests: RequestStream, _ writer: any ResponseWriter, _ context: ServerCallContext) async throws -> Void)
    /// Unary, started on the connection's event loop once the request is in, and answered
    /// later from any thread through `completion`: for work that runs on threads of its own
    /// (plugin calls), with no task per call and one hop back to the event loop. The body
    /// must not block; `completion.onCancel` says when the caller stopped waiting.
    case deferredUnary(@Sendable (_ request: ByteBuffer, _ context: ServerCallContext, _ completion: any UnaryCompletion) -> Void)
}

/// How a `deferredUnary` handler answers its call; provided by the transport.
public protocol UnaryCompletion: Sendable {
    /// Answers the call with a response message. From any thread; only the first answer counts.
    func succeed(_ response: ByteBuffer)
    /// Ends the call with `error`'s status (`RPCError.from`). From any thread; only the first answer counts.
    func fail(_ error: any Error)
    /// Runs `handler` once if the call ends before it is answered (the client cancelled, the
    /// deadline passed, the connection closed), at once if it has already.
    func onCancel(_ handler: @escaping @Sendable () -> Void)
    /// `succeed`, letting go of `object` where the answer is taken (the connection's event
    /// loop, for the native transport) rather than on the answering thread: the state of a
    /// plugin call, made on the loop, is then freed there too (freed on the plugin's thread,
    /// it made that thread and the loop contend for the loop's malloc arena).
    func succeed(_ response: ByteBuffer, releasing object: AnyObject)
    /// `onCancel` with an object to tell rather than a closure: a plugin call's ticket, which
    /// then needs no closure made (and freed) per call.
    func onCancel(telling target: any CallCancellation)
}

/// What a deferred unary call tells when its caller stopped waiting (`UnaryCompletion.onCancel(telling:)`).
public protocol CallCancellation: AnyObject, Sendable {
    func callCancelled()
}

extension UnaryCompletion {
    /// Lets go of `object` at once.
    public func succeed(_ response: ByteBuffer, releasing object: AnyObject) {
        succeed(response)
    }

    public func onCancel(telling target: any CallCancellation) {
        onCancel { target.callCancelled() }
    }
}

/// A method as the router serves it. A class, immutable: a call holds its method from
/// admission to its end, and handing it on costs one reference, not one per field.
public final class RegisteredMethod: Sendable {
    public let descriptor: MethodDescriptor
    public let handler: MethodHandler
    /// Who registered it ("builtin", or a plugin's name), for unregistering.
    public let owner: String
    /// Told how each call ends, when the router is instrumented.
    public let instrument: (any MethodInstrument)?
    /// The scope a caller's credential must grant (`Router.require`); nil: the router lets
    /// anyone call it (the method may still check its caller itself, as the domain's do).
    public let scope: String?

    init(descriptor: MethodDescriptor, handler: MethodHandler, owner: String,
         instrument: (any MethodInstrument)?, scope: String?) {
        self.descriptor = descriptor
        self.handler = handler
        self.owner = owner
        self.instrument = instrument
        self.scope = scope
    }

    /// This method served by `handler` instead.
    func with(handler: MethodHandler) -> RegisteredMethod {
        RegisteredMethod(descriptor: descriptor, handler: handler, owner: owner, instrument: instrument, scope: scope)
    }

    /// This method requiring `scope` instead.
    func with(scope: String?) -> RegisteredMethod {
        RegisteredMethod(descriptor: descriptor, handler: handler, owner: owner, instrument: instrument, scope: scope)
    }
}

/// Maps method paths to handlers, independent of the transport, so built-in services and
/// plugin methods are served the same way. Methods can be added and removed at run time.
public final class Router: Sendable {
    private struct Table {
        var methods: [String: RegisteredMethod] = [:]
        var services: [String: Int] = [:]  // service name -> number of methods
        /// Service name -> who registered its methods: one owner per service.
        var serviceOwners: [String: String] = [:]
        /// Service name -> the scope its callers need.
        var scopes: [String: String] = [:]
        var authorizer: (any CallAuthorizer)?
        /// Services away for a moment (a plugin reloading), with what their callers are told.
        var away: [String: String] = [:]
    }

    private let table = Locked(Table())
    /// Bumped by every change of the table, under its lock (`RouteCache`).
    private let version = Atomic<UInt64>(0)
    /// The table's version now.
    var tableVersion: UInt64 { version.load(ordering: .acquiring) }
    private let observers = Locked<[@Sendable () -> Void]>([])
    /// Metrics and tracing of every method, when set.
    public let instrumentation: (any RouterInstrumentation)?

    public init(instrumentation: (any RouterInstrumentation)? = nil) {
        self.instrumentation = instrumentation
    }

    /// Calls `observer` after every change of the table (a plugin's methods added or removed).
    public func onChange(_ observer: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(observer) }
    }

    private func changed() {
        for observer in observers.withLock({ $0 }) { observer() }
    }

    /// Registers a method; throws ALREADY_EXISTS if its path is taken, or its service is
    /// another owner's (a plugin cannot add methods to a built-in service, nor to another
    /// plugin's, nor so take over what health reports for it).
    public func register(_ descriptor: MethodDescriptor, owner: String = "builtin", _ handler: MethodHandler) throws {
        try table.withLock { table in
            let path = descriptor.path
            guard table.methods[path] == nil else {
                throw RPCError(.alreadyExists, "method \(path) is already registered")
            }
            if let holder = table.serviceOwners[descriptor.service], holder != owner {
                throw RPCError(.alreadyExists, "service \(descriptor.service) is served already (by \(holder))")
            }
            table.serviceOwners[descriptor.service] = owner
            table.methods[path] = RegisteredMethod(
                descriptor: descriptor, handler: instrumentation?.wrap(handler, for: descriptor) ?? handler, owner: owner,
                instrument: instrumentation?.instrument(for: descriptor, owner: owner),
                scope: table.scopes[descriptor.service])
            table.services[descriptor.service, default: 0] += 1
            bumpVersion()
        }
        changed()
    }

    /// Removes every method registered by `owner`; returns how many.
    @discardableResult
    public func unregisterAll(owner: String) -> Int {
        defer { changed() }
        return table.withLock { table in
            let gone = table.methods.values.filter { $0.owner == owner }
            for method in gone {
                table.methods[method.descriptor.path] = nil
                table.services[method.descriptor.service, default: 1] -= 1
                if table.services[method.descriptor.service] == 0 {
                    table.services[method.descriptor.service] = nil
                    table.serviceOwners[method.descriptor.service] = nil
                }
            }
            bumpVersion()
            return gone.count
        }
    }

    /// From now on, every method of `service` (registered already or later) may be called
    /// only with a credential the authorizer accepts for `scope` (`admit(path:metadata:)`).
    public func require(scope: String, forService service: String) {
        table.withLock { table in
            table.scopes[service] = scope
            for (path, method) in table.methods where method.descriptor.service == service {
                table.methods[path] = method.with(scope: scope)
            }
            bumpVersion()
        }
    }

    /// Who decides whether a credential grants a scope.
    public func setAuthorizer(_ authorizer: any CallAuthorizer) {
        table.withLock {
            $0.authorizer = authorizer
            bumpVersion()
        }
    }

    /// The scope `service` requires, if any.
    public func scope(ofService service: String) -> String? {
        table.withLock { $0.scopes[service] }
    }

    public enum Lookup: Sendable {
        case found(RegisteredMethod)
        case unimplemented(RPCError)
    }

    /// The handler for `path`, or the UNIMPLEMENTED error naming what is unknown, whoever
    /// calls (a transport admits a call with `admit(path:metadata:)`, which checks its scope).
    public func lookup(path: String) -> Lookup {
        lookupWithAuthorizer(path: path).0
    }

    /// The lookup, the authorizer and the table's version, all read under one lock.
    func lookupWithAuthorizer(path: String) -> (Lookup, (any CallAuthorizer)?, UInt64) {
        table.withLock { table in
            (Self.lookup(path, in: table), table.authorizer, version.load(ordering: .relaxed))
        }
    }

    /// Called under the table's lock after a change.
    private func bumpVersion() {
        version.add(1, ordering: .releasing)
    }

    private static func lookup(_ path: String, in table: Table) -> Lookup {
        if let method = table.methods[path] { return .found(method) }
        guard let (service, method) = MethodDescriptor.split(path: path) else {
            return .unimplemented(RPCError(.unimplemented, "malformed method path '\(path)' (expected /package.Service/Method)"))
        }
        if table.services[String(service)] == nil {
            if let reason = table.away[String(service)] { return .unimplemented(RPCError(.unavailable, reason)) }
            return .unimplemented(RPCError(.unimplemented, "unknown service \(service)"))
        }
        return .unimplemented(RPCError.unimplemented(method: method, service: service))
    }

    /// While `service` is away (its plugin reloading), a call to it is answered `UNAVAILABLE`
    /// with `reason`, which a client retries, rather than `UNIMPLEMENTED`, which says there is
    /// no such service; `back(service:)` ends that.
    public func away(service: String, reason: String) {
        table.withLock { table in
            table.away[service] = reason
            bumpVersion()
        }
    }

    public func back(service: String) {
        table.withLock { table in
            table.away[service] = nil
            bumpVersion()
        }
    }

    /// Every registered method, sorted by path.
    public var methods: [RegisteredMethod] {
        table.withLock { $0.methods.values.sorted { $0.descriptor.path < $1.descriptor.path } }
    }

    public func hasService(_ name: String) -> Bool {
        table.withLock { $0.services[name] != nil }
    }
}

extension RPCError {
    /// UNIMPLEMENTED for a method its service does not serve: the router's answer for a method it
    /// does not know, and a service's for one its proto declares and it deliberately leaves out.
    public static func unimplemented(method: some StringProtocol, service: some StringProtocol) -> RPCError {
        RPCError(.unimplemented, "unknown method \(method) of service \(service)")
    }
}

extension MethodHandler {
    /// Runs an asynchronous handler's body as every transport does, in its task: not at all
    /// when the call was cancelled before the task started (a call cancelled at once costs
    /// nothing more), and with any error as the result.
    public static func run(_ body: @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void,
                           requests: RequestStream, writer: any ResponseWriter,
                           context: ServerCallContext) async -> Result<Void, any Error> {
        do {
            try Task.checkCancellation()
            try await body(requests, writer, context)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
