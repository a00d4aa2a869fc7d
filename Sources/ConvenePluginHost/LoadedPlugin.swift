import ConveneRPC
import Foundation
import Logging

/// A plugin the host loaded: what it declared, where its code runs, and its calls in flight.
public final class LoadedPlugin: @unchecked Sendable {
    public var manifest: PluginManifest { engine.manifest }
    public var name: String { manifest.name }
    public var path: String { manifest.path }
    public var version: String { manifest.version }
    public var abiMinor: UInt32 { manifest.abiMinor }
    public var service: String { manifest.service }
    public var events: [String] { manifest.events }
    public var methodNames: [String] { manifest.methodNames }
    public var descriptorSet: [UInt8] { manifest.descriptorSet }
    public var warnings: [String] { manifest.warnings }
    public var isolation: PluginIsolation { engine.isolation }

    let engine: any PluginEngine
    let environment: PluginEnvironment
    /// What serves its calls (the host's).
    let dispatch: PluginDispatch
    let activity: PluginActivity
    let validator: WireValidator
    var logger: Logger { environment.logger }
    /// Its event subscription, when it has one (started after it is registered).
    var delivery: EventDelivery?
    private let health = Locked<PluginStatus>(.serving)

    init(engine: any PluginEngine, environment: PluginEnvironment, dispatch: PluginDispatch,
         maxRequestBytes: Int = PluginActivity.defaultMaxRequestBytes) {
        self.engine = engine
        activity = PluginActivity(maxRequestBytes: maxRequestBytes)
        self.environment = environment
        self.dispatch = dispatch
        self.validator = WireValidator(descriptorSet: engine.manifest.descriptorSet)
    }

    /// Serving, or degraded with the reason (calls stuck past their deadline, a plugin
    /// process restarting).
    public var status: PluginStatus { health.withLock { $0 } }

    /// Updates the status; true when it changed.
    func setStatus(_ status: PluginStatus) -> Bool {
        health.withLock { current in
            guard current != status else { return false }
            current = status
            return true
        }
    }
}

/// How a loaded plugin is doing.
public enum PluginStatus: Sendable, Equatable {
    case serving
    /// Loaded and routed to, but not all is well: why.
    case degraded(String)

    public var isServing: Bool { self == .serving }
}

/// A library that could not be loaded at start (or whose process cannot start): the file
/// and the loader's reason. Kept until the file loads.
public struct PluginFailure: Sendable, Equatable {
    public var path: String
    public var reason: String
}
