import Foundation
import GRDB
import NIOConcurrencyHelpers

/// What the server needs to know of the store besides its data: the state of writes (a
/// full disk, an I/O error) with their cause, commits to given tables (to drop what it
/// caches of credentials), and the files' permissions.
extension SQLiteStore {
    /// Calls `observer` after every write, nil when it committed, and whenever a read or a
    /// write fails for lack of space or an I/O fault (not for a broken rule: a duplicate).
    public func observeWrites(_ observer: @escaping @Sendable (StoreError?) -> Void) {
        watchers.state.withLockedValue { $0.writeObservers.append(observer) }
    }

    /// Calls `onChange` right after every commit that changed one of `tables`, on the
    /// writer's queue, before the write that made it returns to its caller.
    public func observeCommits(to tables: [String], _ onChange: @escaping @Sendable () -> Void) {
        let observation = DatabaseRegionObservation(tracking: tables.map { Table($0) })
        let cancellable = observation.start(in: pool, onError: { _ in }, onChange: { _ in onChange() })
        watchers.state.withLockedValue { $0.observations.append(cancellable) }
    }

    /// A SQLite failure as the store reports it; observers hear of space and I/O faults.
    func classify(_ error: DatabaseError) -> any Error {
        let outcome: StoreError
        switch error.resultCode {
        case .SQLITE_CONSTRAINT where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY:
            return StoreError.duplicate
        case .SQLITE_CONSTRAINT where error.extendedResultCode == .SQLITE_CONSTRAINT_TRIGGER:
            return StoreError.ruleViolated(error.message ?? "a rule of the store refused the write")
        case .SQLITE_FULL:
            outcome = .full(cause: "\(error.extendedResultCode): \(error.message ?? "database or disk is full")")
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_PERM:
            outcome = .unavailable(cause: "\(error.extendedResultCode): \(error.message ?? "I/O error")")
        default:
            return error
        }
        watchers.report(outcome)
        return outcome
    }

    /// Creates the data directory 0700 (and tightens an existing one) and the database
    /// file 0600 before SQLite opens it.
    static func prepareFiles(directory: String) throws {
        let files = FileManager.default
        try files.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                  attributes: [.posixPermissions: 0o700])
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory)
        let database = (directory as NSString).appendingPathComponent("convene.sqlite")
        for suffix in ["", "-wal", "-shm"] where files.fileExists(atPath: database + suffix) {
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: database + suffix)
        }
        if !files.fileExists(atPath: database) {
            guard files.createFile(atPath: database, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreError.unavailable(cause: "cannot create \(database)")
            }
        }
    }
}

/// The observers of a store, behind NIO's lock.
final class StoreWatchers: Sendable {
    struct State {
        var writeObservers: [@Sendable (StoreError?) -> Void] = []
        var observations: [AnyDatabaseCancellable] = []
    }

    let state = NIOLockedValueBox(State())

    func report(_ outcome: StoreError?) {
        let observers = state.withLockedValue { $0.writeObservers }
        for observer in observers { observer(outcome) }
    }
}
