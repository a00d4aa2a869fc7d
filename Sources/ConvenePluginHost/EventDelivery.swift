import ConveneRPC
import Foundation
import Logging

/// A plugin's durable event subscription. It reads the operation event log after the
/// plugin's position and hands the plugin each event of a kind it subscribed to, one at a
/// time, in order; the reaction's storage writes and events commit in one transaction with
/// the position moved past the event. So after a crash every event the plugin had not
/// finished reacting to is delivered again, and one it reacted to never is.
///
/// A delivery that does not complete (past its deadline, a crashed plugin process) is
/// tried again after a pause; after `maxAttempts` the event is logged and skipped.
///
/// When several servers share the store, each loads the plugin but one at a time delivers:
/// the holder of the plugin's lease, renewed before each event for longer than a delivery
/// may take. The others wait to take over; one that dies mid-reaction commits nothing, so
/// the server that takes the lease after it expires delivers that event again.
final class EventDelivery: @unchecked Sendable {
    static let batch = 100
    static let maxAttempts = 5
    /// How long past the longest delivery a lease lasts without renewal.
    static let leaseMargin: Duration = .seconds(10)
    /// How often a server without the lease looks whether it is free (sooner when woken).
    static let leaseRetry: Duration = .seconds(2)

    private unowned let plugin: LoadedPlugin
    private let host: PluginDispatch
    private let monitor = Monitor()
    private var woken = false
    private var stopped = false
    private var current: CallTicket?

    init(plugin: LoadedPlugin, host: PluginDispatch) {
        self.plugin = plugin
        self.host = host
    }

    /// Reads (creating, at the log's end) the plugin's position and starts delivering.
    func start() throws {
        let position = try host.services.eventPosition(plugin: plugin.name)
        let plugin = self.plugin
        let thread = Thread { [self] in
            withExtendedLifetime(plugin) { run(from: position) }
        }
        thread.name = "plugin \(plugin.name) events"
        thread.start()
    }

    /// New events may be in the log.
    func wake() {
        monitor.lock()
        woken = true
        monitor.signal()
        monitor.unlock()
    }

    /// Ends the subscription; a delivery in progress is abandoned (delivered again later).
    func stop() {
        monitor.lock()
        stopped = true
        let ticket = current
        monitor.broadcast()
        monitor.unlock()
        ticket?.abandon(RPCError(.unavailable, "plugin \(plugin.name) is being unloaded"))
    }

    private var isStopped: Bool {
        monitor.lock()
        defer { monitor.unlock() }
        return stopped
    }

    /// Sleeps until woken, stopped or `pause` has passed.
    private func sleep(_ pause: Duration) {
        monitor.lock()
        let until = ContinuousClock.now.advanced(by: pause)
        while !woken, !stopped, monitor.wait(until: until) {}
        woken = false
        monitor.unlock()
    }

    /// Whether this server delivers the plugin's events now (taking or renewing the lease).
    private func holdsLease(_ host: PluginDispatch) -> Bool {
        do {
            return try host.services.holdEventLease(plugin: plugin.name, for: host.maxCallTime + Self.leaseMargin)
        } catch {
            plugin.logger.error("cannot take or renew the event delivery lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func run(from start: Int64) {
        var position = start
        var failures = 0
        var leased = false
        defer {
            // Unloaded or stopping: another server takes over at once rather than at expiry.
            if leased { try? host.services.releaseEventLease(plugin: plugin.name) }
        }
        while !isStopped {
            guard holdsLease(host) else {
                if leased { plugin.logger.notice("another server delivers this plugin's events now") }
                leased = false
                sleep(Self.leaseRetry)
                continue
            }
            if !leased {
                plugin.logger.info("this server delivers the plugin's events (it holds the plugin's event lease)")
                leased = true
                // Another server may have moved the position while this one waited.
                if let now = try? host.services.eventPosition(plugin: plugin.name) { position = now }
            }
            let events: [DomainEvent]
            do {
                events = try host.services.domainEvents(after: position, kinds: plugin.events, limit: Self.batch)
            } catch {
                plugin.logger.error("cannot read the event log", metadata: ["error": "\(error)"])
                sleep(.seconds(1))
                continue
            }
            if events.isEmpty {
                sleep(.seconds(5))
                continue
            }
            for event in events {
                guard !isStopped else { return }
                // Renewed before each event: a delivery ends (or is abandoned) before it expires.
                guard holdsLease(host) else {
                    leased = false
                    break
                }
                switch deliver(event, from: position, host: host) {
                case .committed:
                    position = event.sequence
                    failures = 0
                case .moved:
                    // Another subscription of this plugin moved the position: continue from there.
                    if let now = try? host.services.eventPosition(plugin: plugin.name) { position = now }
                case .failed(let error):
                    failures += 1
                    if failures < Self.maxAttempts {
                        plugin.logger.warning("event delivery failed; trying again",
                                              metadata: ["event": "\(event.sequence)", "kind": "\(event.kind)", "error": "\(error)"])
                        sleep(.milliseconds(100 << min(failures, 6)))
                    } else if skip(event, from: position, host: host, error: error) {
                        position = event.sequence
                        failures = 0
                    }
                }
                if failures > 0 { break }  // read again from the position
            }
        }
    }

    private enum Outcome {
        case committed
        case moved
        case failed(RPCError)
    }

    private func deliver(_ event: DomainEvent, from position: Int64, host: PluginDispatch) -> Outcome {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<[UInt8], RPCError>?>(nil)
        let ticket = plugin.activity.ticket(deadline: ContinuousClock.now.advanced(by: host.maxCallTime),
                                            label: "event \(event.kind) #\(event.sequence)") { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        monitor.lock()
        if stopped {
            monitor.unlock()
            ticket.abandon(RPCError(.unavailable, "stopped"))
            return .failed(RPCError(.unavailable, "stopped"))
        }
        current = ticket
        monitor.unlock()
        host.deliver(plugin, kind: event.kind, payload: event.payload, ticket: ticket,
                     delivery: EventPositionMove(from: position, to: event.sequence))
        done.wait()
        monitor.lock()
        current = nil
        monitor.unlock()
        switch result.withLock({ $0 }) {
        case .success?: return .committed
        case .failure(let error)? where error.code == .aborted: return .moved
        case .failure(let error)?: return .failed(error)
        case nil: return .failed(RPCError(.internal, "no outcome"))
        }
    }

    /// Gives up on an event: the position moves past it alone.
    private func skip(_ event: DomainEvent, from position: Int64, host: PluginDispatch, error: RPCError) -> Bool {
        plugin.logger.error("event delivery failed \(Self.maxAttempts) times; skipped",
                            metadata: ["event": "\(event.sequence)", "kind": "\(event.kind)", "error": "\(error)"])
        do {
            try host.services.commit(plugin: plugin.name, reads: [], listings: [], writes: [], events: [],
                                     delivery: EventPositionMove(from: position, to: event.sequence))
            return true
        } catch {
            plugin.logger.error("cannot move the event position", metadata: ["error": "\(error)"])
            sleep(.seconds(1))
            return false
        }
    }
}
