import ConveneBuiltins
import ConveneDomain
import ConveneRPC
import ConveneServices
import ConveneStore

/// The server's `CallAuthorizer`: which credentials grant the scopes built-in services
/// require (`Router.require`). Scope "benchmark" (convene.benchmark.v1.Benchmark): the
/// administrator and parties with the operator role, or anyone with `--open-benchmark`.
///
/// A credential is looked up in the store (off the event loop) the first time it is seen;
/// then its party's roles are kept, keyed by the whole `authorization` value as it came (so
/// a call copies no token out of it), until any commit changes the party
/// or credential tables (`SQLiteStore.observeCommits`, which runs before the write that
/// made the change returns): so a revocation takes effect on the next call, and a
/// synchronous method (the benchmark's echo) is authorized inline, on the event loop. On a
/// store other servers share (PostgreSQL), a revocation may come from another server, so
/// nothing is kept: every call is looked up.
final class ServerAuthorizer: CallAuthorizer {
    static let benchmarkScope = BenchmarkService.requiredScope
    /// Scope "credential" (the domain's services): the call carries a credential, which the
    /// method itself then checks (its party, its roles), as it always did. Asked when the
    /// call opens, before any of its request is taken: a call without one is refused at
    /// once, so an anonymous client cannot make the server hold request bytes for it.
    static let credentialScope = "credential"

    private struct Cache {
        var generation: UInt64 = 0
        var grants = CredentialMemo<Grants>(capacity: ServerAuthorizer.capacity)
    }

    /// What a credential's roles grant, worked out once when they are kept (a cached call
    /// then hashes no role).
    private struct Grants {
        let benchmark: Bool

        init(_ roles: Set<Role>) {
            benchmark = roles.contains(.administrator) || roles.contains(.serverOperator)
        }
    }

    let authenticator: Authenticator
    let openBenchmark: Bool
    private let cache = Locked(Cache())
    /// Whether roles may be kept between calls (the store tells of every credential change).
    private let caches: Bool
    /// Tokens remembered at most; beyond, the cache starts again (only valid tokens enter it).
    static let capacity = 4096

    init(store: any ServerStore, openBenchmark: Bool) {
        self.authenticator = Authenticator(store: store)
        self.openBenchmark = openBenchmark
        guard let local = store as? SQLiteStore else {
            caches = false
            return
        }
        caches = true
        local.observeCommits(to: ["party", "credential"]) { [cache] in
            cache.withLock { cache in
                cache.generation &+= 1
                cache.grants.removeAll()
            }
        }
    }

    func decide(scope: String, metadata: Metadata) -> Result<Void, RPCError>? {
        if scope == Self.credentialScope { return Self.carriesCredential(metadata) }
        if scope == Self.benchmarkScope, openBenchmark { return .success(()) }
        let credential: String?
        do {
            credential = try Authenticator.credential(in: metadata)
        } catch {
            return .failure(error)
        }
        guard let credential else { return .failure(Self.missingCredential) }
        // Only a credential the lookup accepted is kept; any other (a malformed one included)
        // is looked up, and refused with the reason.
        guard let grants = cache.withLock({ $0.grants.value(for: credential) }) else { return nil }
        return Self.check(grants, scope: scope)
    }

    func authorize(scope: String, metadata: Metadata) async throws {
        if scope == Self.credentialScope { return try Self.carriesCredential(metadata).get() }
        if scope == Self.benchmarkScope, openBenchmark { return }
        let generation = cache.withLock { $0.generation }
        let party = try await authenticator.caller(metadata)
        guard let credential = try Authenticator.credential(in: metadata) else { throw Self.missingCredential }
        let grants = Grants(party.roles)
        cache.withLock { cache in
            // Kept only if nothing changed the credentials while it was looked up.
            guard caches, cache.generation == generation else { return }
            cache.grants.keep(grants, for: credential)
        }
        try Self.check(grants, scope: scope).get()
    }

    private static func check(_ grants: Grants, scope: String) -> Result<Void, RPCError> {
        switch scope {
        case benchmarkScope where grants.benchmark:
            .success(())
        case benchmarkScope:
            .failure(RPCError(.permissionDenied,
                "only the administrator or a party with the OPERATOR role may call convene.benchmark.v1.Benchmark (or start the server with --open-benchmark)"))
        default:
            .failure(RPCError(.permissionDenied, "no credential grants scope '\(scope)'"))
        }
    }

    private static func carriesCredential(_ metadata: Metadata) -> Result<Void, RPCError> {
        do {
            return try Authenticator.credential(in: metadata) == nil ? .failure(missingCredential) : .success(())
        } catch {
            return .failure(error)
        }
    }

    private static let missingCredential = RPCError(.unauthenticated, "no credential: send metadata 'authorization: Bearer <token>'")
}
