import NIOCore

/// Decides whether a call's credential grants a scope: what the router asks before it lets
/// a transport run a method that requires one (`Router.require(scope:forService:)`).
///
/// The server installs one (it knows credentials and roles); a built-in service only names
/// its scope, so no layer below the server needs to know how callers are authenticated.
public protocol CallAuthorizer: AnyObject, Sendable {
    /// Decides from memory, on the event loop, without blocking: nil when it must look the
    /// credential up (then `authorize` runs first, in the call's task).
    func decide(scope: String, metadata: Metadata) -> Result<Void, RPCError>?
    /// Decides, looking the credential up if it must; throws the status to answer with
    /// (UNAUTHENTICATED without a valid credential, PERMISSION_DENIED without the right).
    func authorize(scope: String, metadata: Metadata) async throws
}

extension Router {
    /// What a transport does with a new call (`admit(path:metadata:)`).
    public enum Admission: Sendable {
        /// Run this method. When its credential must be looked up first, the handler is an
        /// asynchronous one that does so before it runs the method's own.
        case run(RegisteredMethod)
        /// End the call at once with this status: an unknown method (`method` nil), or a
        /// credential that does not grant the method's scope.
        case refuse(RPCError, method: RegisteredMethod?)
    }

    /// Counts a call refused as it opened (`Admission.refuse`) in the metrics, as its
    /// transport would have counted it had it run: in its method's calls with the refusal's
    /// status, or, for a path nobody serves, as an unknown method's call.
    public func countRefusal(_ error: RPCError, of method: RegisteredMethod?, transport: TransportKind) {
        if let method {
            method.instrument?.callEnded(transport: transport, code: error.code, duration: .zero)
        } else if error.code == .unimplemented {
            instrumentation?.unknownMethodCalled(transport: transport)
        }
    }

    /// The method for `path`, if the caller's `metadata` may call it.
    public func admit(path: String, metadata: Metadata) -> Admission {
        let (lookup, authorizer, _) = lookupWithAuthorizer(path: path)
        switch lookup {
        case .found(let method): return admit(method, metadata: metadata, authorizer: authorizer)
        case .unimplemented(let error): return .refuse(error, method: nil)
        }
    }

    /// `admit(path:metadata:)` for a connection that keeps a `RouteCache`: a method it
    /// called before (and the table has not changed since) is found without the router's
    /// lock; the credential is checked on every call all the same.
    public func admit(path: String, metadata: Metadata, cache: inout RouteCache) -> Admission {
        if let method = cache.method(for: path, version: tableVersion) {
            return admit(method, metadata: metadata, authorizer: cache.authorizer)
        }
        let (lookup, authorizer, version) = lookupWithAuthorizer(path: path)
        switch lookup {
        case .found(let method):
            cache.keep(method, for: path, version: version, authorizer: authorizer)
            return admit(method, metadata: metadata, authorizer: authorizer)
        case .unimplemented(let error):
            return .refuse(error, method: nil)
        }
    }

    private func admit(_ method: RegisteredMethod, metadata: Metadata, authorizer: (any CallAuthorizer)?) -> Admission {
        guard let scope = method.scope else { return .run(method) }
        guard let authorizer else {
            return .refuse(RPCError(.permissionDenied, "\(method.descriptor.service) requires a credential, and this server authorizes none"),
                           method: method)
        }
        switch authorizer.decide(scope: scope, metadata: metadata) {
        case .success?: return .run(method)
        case .failure(let error)?: return .refuse(error, method: method)
        case nil: return .run(method.authorizingFirst(scope: scope, with: authorizer))
        }
    }
}

extension RegisteredMethod {
    /// This method behind an asynchronous handler that authorizes the call first.
    func authorizingFirst(scope: String, with authorizer: any CallAuthorizer) -> RegisteredMethod {
        let body: @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void
        switch handler {
        case .asynchronous(let original):
            body = original
        case .synchronousUnary(let original):
            body = MethodHandler.asynchronous(running: original)
        case .deferredUnary(let original):
            // Stays deferred: the lookup runs in a task, and the method starts once it succeeds.
            return with(handler: .deferredUnary { request, context, completion in
                Task {
                    do {
                        try await authorizer.authorize(scope: scope, metadata: context.requestMetadata)
                        original(request, context, completion)
                    } catch {
                        completion.fail(error)
                    }
                }
            })
        }
        return with(handler: .asynchronous { requests, writer, context in
            try await authorizer.authorize(scope: scope, metadata: context.requestMetadata)
            try await body(requests, writer, context)
        })
    }
}

extension MethodHandler {
    /// A synchronous unary body run in a task, answering through a `ResponseWriter`.
    static func asynchronous(running body: @escaping @Sendable (ByteBuffer, inout UnaryContext) throws -> ByteBuffer)
        -> @Sendable (RequestStream, any ResponseWriter, ServerCallContext) async throws -> Void {
        { requests, writer, context in
            var request: ByteBuffer?
            for try await message in requests where request == nil { request = message }
            guard let request else { throw RPCError(.internal, "unary call ended without a request message") }
            var unary = UnaryContext(method: context.method, requestMetadata: context.requestMetadata,
                                     deadline: context.deadline, peer: context.peer)
            let response = try body(request, &unary)
            if !unary.responseHeaders.isEmpty { try await writer.sendHeaders(unary.responseHeaders) }
            writer.setTrailers(unary.responseTrailers)
            try await writer.send(response, compression: unary.responseCompression)
        }
    }
}
