import ConveneRPC
import Foundation

/// A plugin in a runner process of its own (see RunnerConnection). Not built yet.
enum ProcessEngine {
    static func start(path: String, host: PluginHost) throws(PluginLoadError) -> any PluginEngine {
        throw .processFailed(path: path, reason: "process isolation is not available yet")
    }
}
