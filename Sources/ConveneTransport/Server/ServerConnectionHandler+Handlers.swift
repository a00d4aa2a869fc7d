import ConveneRPC
import ConveneWire
import NIOCore

/// The handlers a connection runs, and what their tasks ask of it: synchronous calls
/// answered inline, deferred ones handed to their own threads, asynchronous ones as tasks
/// (started at the end of the read that opened them), and the hops back from those tasks.
extension ServerConnectionHandler {
    func runSynchronous(_ call: SynchronousCall) {
        // A deadline so short that it passed before the call's turn came (§2.2: enforced from
        // the moment the CALL frame was read): the method does not run. A clock read per call
        // with a deadline; the read batch's own time would say it never passes within it.
        if let deadline = call.deadline, clock.now() >= deadline {
            return machine.synchronousHandlerReturned(streamID: call.streamID, .failure(RPCError(.deadlineExceeded,
                "deadline exceeded: it passed before the call could run")), now: readTime)
        }
        var unary = UnaryContext(method: call.method, requestMetadata: call.metadata, deadline: handlerDeadline(call.deadline),
                                 peer: peer, allocator: allocator)
        unary.requestEncoding = call.requestEncoding
        let result: Result<SynchronousResponse, any Error>
        do {
            let message = try call.body(call.request, &unary)
            result = .success(SynchronousResponse(message: message, headers: unary.responseHeaders,
                                                  trailers: unary.responseTrailers, compress: unary.compressResponse))
        } catch {
            result = .failure(error)
        }
        machine.synchronousHandlerReturned(streamID: call.streamID, result, now: readTime)
    }

    func runDeferred(_ call: DeferredCall) {
        guard let context else { return }
        let completion = ConnectionCompletion(streamID: call.streamID, answers: deferredAnswers,
                                              connection: NIOLoopBound(self, eventLoop: context.eventLoop))
        deferred[call.streamID] = completion
        call.body(call.request, ServerCallContext(method: call.method, requestMetadata: call.metadata, deadline: handlerDeadline(call.deadline),
                                                  peer: peer), completion)
    }

    func startHandler(_ call: AsynchronousCall) {
        if schedule.inReadBatch {
            running[call.streamID] = RunningHandler(pending: call)
            launchesDue.append(call.streamID)
        } else {
            running[call.streamID] = RunningHandler()
            launch(call)
        }
    }

    /// Makes the call's request stream, writer and context, and starts its task.
    func launch(_ call: AsynchronousCall) {
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let id = call.streamID
        let eventLoop = context.eventLoop
        let (requestStream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let requests = RequestStream(requestStream, onConsumed: { _ in
            eventLoop.execute { loopBound.value.requestConsumed(streamID: id) }
        })
        let writer = ServerResponseWriter(handler: loopBound, streamID: id, responseEncoding: call.responseEncoding,
                                          allocator: allocator)
        let callContext = ServerCallContext(method: call.method, requestMetadata: call.metadata, deadline: handlerDeadline(call.deadline),
                                            peer: peer)
        let body = call.body
        for message in running[id]?.early ?? [] { continuation.yield(message) }
        if running[id]?.requestsEnded ?? false { continuation.finish() }
        running[id]?.early = []
        running[id]?.requests = continuation
        running[id]?.task = Task {
            let result = await MethodHandler.run(body, requests: requests, writer: writer, context: callContext)
            eventLoop.execute { loopBound.value.handlerFinished(streamID: id, result) }
        }
    }

    /// Starts the tasks of the calls this read batch opened that are still running; a call
    /// cancelled in the same batch never had a task (nor anything else made for it), and its
    /// handler is finished at once.
    func launchDueHandlers() {
        guard !launchesDue.isEmpty else { return }
        let due = launchesDue
        launchesDue.removeAll(keepingCapacity: true)
        for id in due {
            if let call = running[id]?.pending {
                running[id]?.pending = nil
                launch(call)
            } else {
                machine.handlerFinished(streamID: id, .failure(CancellationError()), now: readTime)
            }
        }
        performActions()
    }

    // MARK: - Called from handler tasks (on the event loop)

    func requestConsumed(streamID id: UInt32) {
        machine.requestConsumed(streamID: id)
        afterInput()
    }

    func sendHeaders(streamID id: UInt32, _ metadata: Metadata, completion: SendCompletion) {
        machine.sendHeaders(streamID: id, metadata, completion: completion)
        afterInput()
    }

    func enqueue(streamID id: UInt32, _ bytes: ByteBuffer, encoding: MessageEncoding, uncompressedSize: Int,
                 completion: SendCompletion) {
        machine.enqueue(streamID: id, bytes, encoding: encoding, uncompressedSize: uncompressedSize,
                        completion: completion, now: clock.now())
        afterInput()
    }

    func setTrailers(streamID id: UInt32, _ metadata: Metadata) {
        machine.setTrailers(streamID: id, metadata)
    }

    /// Deferred unary calls' answers (their `ConnectionCompletion`s hop here with them), in
    /// a batch: one reading of the clock, and the machine's actions done once.
    func deferredFinished(_ answers: [ConnectionCompletion]) {
        guard !answers.isEmpty else { return }
        let now = clock.now()
        for answer in answers {
            guard let result = answer.result, deferred.removeValue(forKey: answer.streamID) != nil else { continue }
            machine.deferredHandlerReturned(streamID: answer.streamID, result, now: now)
        }
        machine.requestWakeUp()
        afterInput()
    }

    func handlerFinished(streamID id: UInt32, _ result: Result<Void, any Error>) {
        running.removeValue(forKey: id)?.requests?.finish()
        machine.handlerFinished(streamID: id, result, now: clock.now())
        afterInput()
    }
}
