// convene-plugin-runner: the process an isolated plugin runs in (convened --plugin-isolation
// process). Started by convened, never by hand; see PluginRunner.
import ConvenePluginHost
import Foundation

PluginRunner.main(CommandLine.arguments)
