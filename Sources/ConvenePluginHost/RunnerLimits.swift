/// What a runner process may send the server. The runner's own host functions keep these
/// limits (`HostLimits`, `HostAPI`) before anything is sent, so a message past them was not
/// made by the runner's code: the plugin forged it on the runner's connection (which it
/// can reach, being in the same process), and the server ends that process.
extension RunnerMessage {
    /// Why the message breaks the limits, or nil. (`ready` is checked as a descriptor is,
    /// `PluginManifest.problem`.)
    var runnerViolation: String? {
        switch self {
        case .done(_, _, let response, let error):
            if let response, response.count > HostLimits.maxResponse {
                return "answered with a response of \(response.count) bytes, over the limit of \(HostLimits.maxResponse) bytes"
            }
            if let error, error.utf8.count > HostLimits.maxEventText {
                return "answered with an error message of \(error.utf8.count) bytes, over the limit of \(HostLimits.maxEventText)"
            }
            return nil
        case .request(_, _, let request):
            return request.violation.map { "asked for a host function with \($0)" }
        case .write(_, let key, let value):
            guard key.isEmpty || key.count > HostLimits.maxKey || (value?.count ?? 0) > HostLimits.maxValue else { return nil }
            return "wrote a key of \(key.count) bytes with a value of \(value?.count ?? 0) (keys 1 to \(HostLimits.maxKey), values to \(HostLimits.maxValue))"
        case .log(_, let text):
            guard text.utf8.count > HostLimits.maxEventText else { return nil }
            return "logged \(text.utf8.count) bytes at once, over the limit of \(HostLimits.maxEventText)"
        default:
            return nil
        }
    }
}

extension HostRequest {
    /// What in it is past the host functions' limits, or nil.
    var violation: String? {
        func over(_ bytes: Int, _ limit: Int, _ what: String) -> String? {
            bytes > limit ? "\(what) of \(bytes) bytes (at most \(limit))" : nil
        }
        switch self {
        case .storageGet(let key):
            return over(key.count, HostLimits.maxKey, "a key")
        case .storageNext(let prefix, let after):
            return over(prefix.count, HostLimits.maxKey, "a prefix") ?? over(after?.count ?? 0, HostLimits.maxKey, "a key")
        case .callService(let path, let request, _):
            return over(path.utf8.count, HostLimits.maxText, "a method path") ?? over(request.count, HostLimits.maxResponse, "a request")
        case .maySee(let id):
            return over(id.utf8.count, HostLimits.maxID, "an object id")
        case .askRule(_, let party, let object):
            return over(party?.utf8.count ?? 0, HostLimits.maxID, "a party id") ?? over(object.utf8.count, HostLimits.maxID, "an object id")
        case .emit(let event):
            return over(event.subjectID.utf8.count, HostLimits.maxID, "an event's subject")
                ?? over(event.kind.utf8.count, HostLimits.maxEventKind, "an event's kind")
                ?? over(event.description.utf8.count, HostLimits.maxEventText, "an event's description")
                ?? over(event.audience.partyID?.utf8.count ?? 0, HostLimits.maxID, "an event's audience")
        }
    }

    /// About how many bytes it holds (for the bound on what a runner has outstanding).
    var size: Int {
        switch self {
        case .storageGet(let key): key.count
        case .storageNext(let prefix, let after): prefix.count + (after?.count ?? 0)
        case .callService(let path, let request, _): path.utf8.count + request.count
        case .maySee(let id): id.utf8.count
        case .askRule(_, let party, let object): (party?.utf8.count ?? 0) + object.utf8.count
        case .emit(let event):
            event.subjectID.utf8.count + event.kind.utf8.count + event.description.utf8.count + (event.audience.partyID?.utf8.count ?? 0)
        }
    }
}
