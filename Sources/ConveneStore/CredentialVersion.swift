import GRDB
import Synchronization

/// Counts the committed transactions that changed credentials or parties, so that a cache
/// of who a credential belongs to can tell it is stale: read the version before the
/// database, and trust a cached answer only while the version is unchanged. A revocation
/// bumps it before its RPC answers, so it takes effect on the next call.
final class CredentialVersion: TransactionObserver, @unchecked Sendable {
    private let value = Atomic<Int>(0)
    private var changed = false  // on the writer's queue only

    var current: Int { value.load(ordering: .acquiring) }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        eventKind.tableName == "credential" || eventKind.tableName == "party"
    }

    func databaseDidChange(with event: DatabaseEvent) { changed = true }

    func databaseDidCommit(_ db: Database) {
        if changed { value.add(1, ordering: .releasing) }
        changed = false
    }

    func databaseDidRollback(_ db: Database) { changed = false }
}

extension SQLiteStore {
    /// Changes when a committed transaction changed credentials or parties (see CredentialVersion).
    public var credentialsVersion: Int? { credentialVersion.current }
}
