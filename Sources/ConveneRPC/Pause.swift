/// Sleeps for `duration` even when the calling task is cancelled. For the loops that wait
/// out a bounded drain (an unload, a shutdown's grace period): in a cancelled task
/// `Task.sleep` returns at once, and such a loop spun on a thread of the cooperative pool
/// until its deadline (an administrator's cancelled UnloadPlugin held a core for as long
/// as the plugin's calls ran, and two of them starved every request handler).
public func pause(for duration: Duration) async {
    await Task.detached { try? await Task.sleep(for: duration) }.value
}
