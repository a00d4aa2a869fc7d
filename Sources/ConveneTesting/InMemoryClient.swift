import ConveneClient
import ConveneProtobuf
import ConveneRPC
import ConveneTransport
import ConveneWire
import NIOCore

/// A client that calls a router's handlers directly: no socket, no frame, no event loop. The
/// typed stubs work on it as on `ConveneClient` (`client.consultation.getMeeting(...)`), so a
/// service's behaviour can be tested without the transport.
///
/// It keeps the call's contract: metadata and the deadline reach the handler, errors end the
/// call with their status (`RPCError.from`), a call past its timeout ends DEADLINE_EXCEEDED and
/// its handler is cancelled, an unknown method is UNIMPLEMENTED. It has no flow control and no
/// compression: responses queue without bound.
public final class InMemoryClient: CallChannel {
    public let router: Router
    /// Options every call starts from (e.g. credentials in metadata).
    public let defaultOptions: CallOptions

    public init(router: Router, defaultOptions: CallOptions = CallOptions()) {
        self.router = router
        self.defaultOptions = defaultOptions
    }

    public func rawUnary(path: String, request: ByteBuffer, options: CallOptions?) async throws -> RawUnaryResponse {
        let call = try await rawCall(path: path, request: request, options: options)
        var responses = call.makeResponseIterator()
        var message: ByteBuffer?
        while let next = try await responses.next() { message = next }
        let end = await call.end
        guard let message else {
            throw RPCError(.internal, "server ended the call with OK but sent no response message")
        }
        return (message, try await call.headers, end.trailers)
    }

    public func rawCall(path: String, request: ByteBuffer?, options: CallOptions?) async throws -> any RawCall {
        let options = options?.over(defaultOptions) ?? defaultOptions
        let call = InMemoryCall()
        if let request {
            call.requests.yield(request)
            call.requests.finish()
        }
        switch router.admit(path: path, metadata: options.metadata) {
        case .refuse(let error, _):
            call.end(with: error)
        case .run(let method):
            let deadline = options.timeout.map { ContinuousClock.now.advanced(by: $0) }
            let task = Task { await call.run(method, metadata: options.metadata, deadline: deadline) }
            call.started(task, timeout: options.timeout)
        }
        return call
    }


}

/// One call of an `InMemoryClient`: the requests and responses as streams, the end once.
final class InMemoryCall: RawCall {
    private struct State {
        var headers: Metadata?
        var headerWaiters: [CheckedContinuation<Metadata, Never>] = []
        var trailers = Metadata()
        var end: CallEnd?
        var endWaiters: [CheckedContinuation<CallEnd, Never>] = []
        var handler: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }

    let requests: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let requestStream: AsyncThrowingStream<ByteBuffer, any Error>
    private let responses: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let responseStream: AsyncThrowingStream<ByteBuffer, any Error>
    private let state = Locked(State())

    init() {
        (requestStream, requests) = AsyncThrowingStream.makeStream()
        (responseStream, responses) = AsyncThrowingStream.makeStream()
    }

    func started(_ handler: Task<Void, Never>, timeout: Duration?) {
        let timer = timeout.map { timeout in
            Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                let millis = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
                self?.end(with: RPCError(.deadlineExceeded, "deadline exceeded (timeout was \(millis) ms)"))
            }
        }
        let ended = state.withLock { state in
            state.handler = handler
            state.timer = timer
            return state.end != nil
        }
        if ended { handler.cancel(); timer?.cancel() }
    }

    /// Runs the method's handler to its end.
    func run(_ method: RegisteredMethod, metadata: Metadata, deadline: Deadline?) async {
        do {
            switch method.handler {
            case .synchronousUnary(let body):
                var context = UnaryContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline, peer: "in-memory")
                let response = try body(try await RequestStream(requestStream).single(), &context)
                setHeaders(context.responseHeaders)
                responses.yield(response)
                end(with: nil, trailers: context.responseTrailers)
            case .deferredUnary(let body):
                let request = try await RequestStream(requestStream).single()
                let (answers, answer) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
                let completion = DeferredCompletion { result in
                    answer.yield(with: result)
                    answer.finish()
                }
                body(request, ServerCallContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline,
                                                peer: "in-memory"), completion)
                let response = try await withTaskCancellationHandler {
                    try await answers.first { _ in true }
                } onCancel: {
                    completion.cancel()
                }
                guard let response else { throw RPCError(.cancelled, "the call ended before it was answered") }
                setHeaders(Metadata())
                responses.yield(response)
                end(with: nil)
            case .asynchronous(let body):
                let context = ServerCallContext(method: method.descriptor, requestMetadata: metadata, deadline: deadline, peer: "in-memory")
                try await body(RequestStream(requestStream), InMemoryResponseWriter(call: self), context)
                end(with: nil, trailers: state.withLock { $0.trailers })
            }
        } catch {
            end(with: RPCError.from(error))
        }
    }

    // MARK: The server's side

    func setHeaders(_ metadata: Metadata) {
        let waiters = state.withLock { state -> [CheckedContinuation<Metadata, Never>] in
            guard state.headers == nil, state.end == nil else { return [] }
            state.headers = metadata
            defer { state.headerWaiters = [] }
            return state.headerWaiters
        }
        for waiter in waiters { waiter.resume(returning: metadata) }
    }

    func send(response: ByteBuffer) throws {
        setHeaders(Metadata())
        guard state.withLock({ $0.end == nil }) else { throw RPCError(.cancelled, "the call has ended") }
        responses.yield(response)
    }

    func setTrailers(_ metadata: Metadata) {
        state.withLock { $0.trailers = metadata }
    }

    /// Ends the call: OK with `trailers` when `error` is nil, else with the error's status. Once.
    func end(with error: RPCError?, trailers: Metadata = Metadata()) {
        let end = error.map { CallEnd(code: $0.code, message: $0.message, trailers: $0.metadata) } ?? CallEnd(code: .ok, trailers: trailers)
        let (first, headerWaiters, endWaiters, handler, timer) = state.withLock { state in
            guard state.end == nil else {
                return (false, [CheckedContinuation<Metadata, Never>](), [CheckedContinuation<CallEnd, Never>](),
                        Task<Void, Never>?.none, Task<Void, Never>?.none)
            }
            state.end = end
            defer { state.headerWaiters = []; state.endWaiters = [] }
            return (true, state.headerWaiters, state.endWaiters, state.handler, state.timer)
        }
        guard first else { return }
        if let error { responses.finish(throwing: error) } else { responses.finish() }
        requests.finish()
        handler?.cancel()
        timer?.cancel()
        for waiter in headerWaiters { waiter.resume(returning: Metadata()) }
        for waiter in endWaiters { waiter.resume(returning: end) }
    }

    // MARK: The client's side

    func send(_ message: ByteBuffer, compress: Bool) async throws {
        guard state.withLock({ $0.end == nil }) else {
            let end = await self.end
            throw RPCError(end.code == .ok ? .internal : end.code, "the call has ended: \(end.message)")
        }
        requests.yield(message)
    }

    func finish() async throws { requests.finish() }

    func makeResponseIterator() -> RawResponseIterator { RawResponseIterator(responseStream.makeAsyncIterator()) }

    var headers: Metadata {
        get async throws {
            await withCheckedContinuation { continuation in
                let known = state.withLock { state -> Metadata? in
                    if let headers = state.headers { return headers }
                    if state.end != nil { return Metadata() }
                    state.headerWaiters.append(continuation)
                    return nil
                }
                if let known { continuation.resume(returning: known) }
            }
        }
    }

    var end: CallEnd {
        get async {
            await withCheckedContinuation { continuation in
                let known = state.withLock { state -> CallEnd? in
                    if let end = state.end { return end }
                    state.endWaiters.append(continuation)
                    return nil
                }
                if let known { continuation.resume(returning: known) }
            }
        }
    }

    func cancel() { end(with: RPCError(.cancelled, "call was cancelled")) }
}

/// The response side a handler writes to, in memory.
struct InMemoryResponseWriter: ResponseWriter {
    let call: InMemoryCall

    func sendHeaders(_ metadata: Metadata) async throws { call.setHeaders(metadata) }
    func send(_ message: ByteBuffer, compress: Bool) async throws { try call.send(response: message) }
    func setTrailers(_ metadata: Metadata) { call.setTrailers(metadata) }
}
