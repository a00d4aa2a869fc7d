#!/usr/bin/env python3
"""`make bench-compare`: Convene against gRPC C++ and Redis 7, on this machine, in one run.

A 64-byte unary echo (Redis: PING) at 1, 16 and 64 calls in flight on one connection;
Convene is measured on both of its listeners: the native protocol (driven by `convene
bench`) and standard gRPC over HTTP/2 (driven by the same gRPC C++ client as gRPC C++'s
own server, so those two rows are the same load against two servers);
for each: throughput, p50/p99 latency and, above all, the server's CPU time per call,
read from /proc/PID/stat (utime + stime) just before and just after the measured run.
Client and server share the cores, so CPU per call is the figure that survives a noisy
machine; each cell is the median of --repeats runs, and the systems take turns within
each repetition so that drift in the machine's load hits them alike.

Then Convene alone: server-streaming 1 MiB messages on one connection (GB/s), the
resident memory of idle connections (scripts/idle-connections.py), and the plugin
boundary: the template plugin's Echo (answers its request, touches nothing) against the
built-in echo in the same server, side by side, with the plugin in-process and in a
runner process (whose CPU is counted with the server's).

Every process started here listens on 127.0.0.1 only, and every run is bounded in time.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

from convene_admin import operator_token
from procstat import cpu_seconds, free_port, rss_kib, wait_for_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(command, timeout, env=None):
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, **(env or {})})
    if out.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measured(pid, run):
    """Runs `run` (which returns (calls, result)) and the server CPU it cost per call."""
    before = cpu_seconds(pid)
    calls, result = run()
    spent = cpu_seconds(pid) - before
    result["server_cpu_s"] = spent
    result["cpu_us_per_call"] = spent * 1e6 / calls if calls else float("nan")
    return result


class Server:
    def __init__(self, name, command, port):
        self.name, self.port = name, port
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(port, self.process)

    @property
    def pid(self):
        return self.process.pid

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def convene_unary(args, server, in_flight, seconds, warmup):
    command = [args.convene, "--target", f"127.0.0.1:{server.port}", "--token-file", args.token_file, "bench",
               "--connections", "1",
               "--concurrency", str(in_flight), "--payload", str(args.payload), "--warmup", "0", "--json"]
    run_json(command + ["--duration", str(warmup)], timeout=warmup + 60)

    def run():
        result = run_json(command + ["--duration", str(seconds)], timeout=seconds + 60)
        return result["requests"], result
    return measured(server.pid, run)


def grpc_unary(args, server, in_flight, seconds, warmup):
    client = os.path.join(args.build, "grpc-echo-client")
    target = f"127.0.0.1:{server.port}"
    # The same credential to both servers (gRPC C++'s ignores it): the same load on each.
    env = {"CONVENE_TOKEN": args.token}
    run_json([client, target, str(in_flight), "0", str(warmup), str(args.payload)], timeout=warmup + 60, env=env)

    def run():
        result = run_json([client, target, str(in_flight), "0", str(seconds), str(args.payload)], timeout=seconds + 60,
                          env=env)
        return result["requests"], result
    return measured(server.pid, run)


def grpc_unary_port(args, pid, port, in_flight, seconds, warmup):
    """The gRPC C++ client against any gRPC server: (pid, port) of the server measured."""
    class Target:
        pass
    target = Target()
    target.pid, target.port = pid, port
    return grpc_unary(args, target, in_flight, seconds, warmup)


def redis_ping(args, server, connections, pipeline, seconds):
    """redis-benchmark PING (multi-bulk); about `seconds` long, calibrated by a short run."""
    def bench(n):
        out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-t", "ping_mbulk",
                              "-n", str(n), "-c", str(connections), "-P", str(pipeline), "--csv"],
                             capture_output=True, text=True, timeout=seconds * 10 + 120)
        if out.returncode != 0:
            sys.exit(f"redis-benchmark failed: {out.stderr.strip()}")
        rows = [line.replace('"', "").split(",") for line in out.stdout.strip().splitlines()]
        header, values = rows[0], rows[-1]
        row = dict(zip(header, values))
        return {"rps": float(row["rps"]), "p50_us": float(row["p50_latency_ms"]) * 1000,
                "p99_us": float(row["p99_latency_ms"]) * 1000, "requests": n}
    probe = bench(20000 * pipeline)
    n = max(20000, int(probe["rps"] * seconds))

    def run():
        result = bench(n)
        return n, result
    return measured(server.pid, run)


def convene_stream(args, server, seconds, warmup):
    command = [args.convene, "--target", f"127.0.0.1:{server.port}", "--token-file", args.token_file, "bench",
               "--kind", "server-stream",
               "--payload", "1048576", "--stream-messages", "1000", "--connections", "1", "--concurrency", "1",
               "--warmup", "0", "--json"]
    run_json(command + ["--duration", str(warmup)], timeout=warmup + 60)

    def run():
        result = run_json(command + ["--duration", str(seconds)], timeout=seconds + 60)
        return result["requests"], result
    return measured(server.pid, run)


def plugin_server(args, isolation, data_dir):
    """convened with only the template plugin, in `isolation`; an operator's token file."""
    folder = tempfile.mkdtemp(prefix="convene-bench-plugins-")
    shutil.copy(os.path.join(args.convene_bin, "libConveneTemplatePlugin.so"), folder)
    data = os.path.join(data_dir, isolation)
    server = Server(f"Convene, plugin {isolation}",
                    [os.path.join(args.convene_bin, "convened"), "--port", str(p := free_port()), "--grpc-port", "0", "--data-dir", data,
                     "--log-level", "error", "--plugins-dir", folder, "--plugin-isolation", isolation], p)
    server.folder = folder
    return server, operator_token(args.convene, server.port, os.path.join(data, "admin.token"), data, "bench-compare")


def with_children(pid):
    """The process and its children (an isolated plugin's runner). A child is listed under
    the thread that started it, which for a runner is not the main thread: every thread's
    list is read (reading only the main thread's left the runners' CPU uncounted)."""
    pids = [pid]
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                pids += [int(child) for child in f.read().split()]
        except OSError:
            pass  # the thread ended meanwhile
    return pids


def convene_plugin(args, server, token_file, in_flight, seconds, warmup, path):
    """`convene bench` on `path` (None: the built-in echo); CPU of the server and its runners."""
    command = [args.convene, "--target", f"127.0.0.1:{server.port}", "--token-file", token_file, "bench",
               "--connections", "1", "--concurrency", str(in_flight), "--payload", str(args.payload),
               "--warmup", "0", "--json"] + (["--path", path] if path else [])
    run_json(command + ["--duration", str(warmup)], timeout=warmup + 60)
    pids = with_children(server.pid)
    before = sum(cpu_seconds(pid) for pid in pids)
    result = run_json(command + ["--duration", str(seconds)], timeout=seconds + 60)
    spent = sum(cpu_seconds(pid) for pid in pids) - before
    if not result["requests"]:
        sys.exit(f"{server.name}: no call of {path or 'the built-in echo'} succeeded: {result.get('errors_by_code')}")
    result["cpu_us_per_call"] = spent * 1e6 / result["requests"] if result["requests"] else float("nan")
    return result


PLUGIN_ECHO = "/convene.example.v1.Example/Echo"


def median(results, key):
    values = [r[key] for r in results if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")


def spread(results, key, fmt):
    """min-max of the rounds, so a reader can tell a change from noise."""
    values = [r[key] for r in results if r.get(key) is not None]
    return f"{fmt.format(min(values))}-{fmt.format(max(values))}" if values else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1, help="warm-up seconds before each run (not measured)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", default="1,16,64", help="calls in flight on one connection")
    parser.add_argument("--payload", type=int, default=64)
    parser.add_argument("--idle-connections", type=int, default=10000, help="0 skips the idle-connection test")
    parser.add_argument("--build", default=os.path.join(ROOT, ".build-compare"))
    parser.add_argument("--convene-bin", default=os.path.join(ROOT, ".build/release"))
    parser.add_argument("--out", default=os.path.join(ROOT, ".build-compare/results.md"))
    parser.add_argument("--plugins-only", action="store_true",
                        help="measure only the plugin boundary against the built-in echo (no gRPC C++, no Redis)")
    args = parser.parse_args()
    args.convene = os.path.join(args.convene_bin, "convene")
    levels = [int(x) for x in args.levels.split(",")]
    for tool in [] if args.plugins_only else ["redis-server", "redis-benchmark"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (apt-get install redis-server)")

    data_dir = tempfile.mkdtemp(prefix="convene-compare-")
    plugin_servers = {isolation: plugin_server(args, isolation, data_dir) for isolation in ["in-process", "process"]}
    plugin_rows = {}  # (isolation, case, level) -> [results]
    servers = {} if args.plugins_only else {
        "convene": Server("Convene", [os.path.join(args.convene_bin, "convened"), "--port", str(p := free_port()),
                                      "--grpc-port", str(grpc_port := free_port()),
                                      "--data-dir", data_dir, "--log-level", "error",
                                      # the idle-connection test holds them all from 127.0.0.1
                                      "--max-connections-per-address", str(max(256, args.idle_connections + 64))], p),
        "grpc": Server("gRPC C++", [os.path.join(args.build, "grpc-echo-server"), str(p := free_port())], p),
        "redis": Server("Redis", ["redis-server", "--port", str(p := free_port()), "--bind", "127.0.0.1",
                                  "--save", "", "--appendonly", "no", "--daemonize", "no"], p),
    }
    # The benchmark service answers the administrator's credential, written at first start.
    if not args.plugins_only:
        args.token_file = os.path.join(data_dir, "admin.token")
        args.token = open(args.token_file).read().strip()
    rows = {}  # (system, level) -> [results]
    stream = []
    try:
        for repeat in range(args.repeats):
            for level in levels:
                print(f"repeat {repeat + 1}/{args.repeats}, {level} in flight", file=sys.stderr, flush=True)
                for isolation, (server, token) in plugin_servers.items():
                    for case, path in [("echo", None), ("plugin", PLUGIN_ECHO)]:
                        plugin_rows.setdefault((isolation, case, level), []).append(
                            convene_plugin(args, server, token, level, args.seconds, args.warmup, path))
                if args.plugins_only:
                    continue
                cases = [
                    ("Convene", lambda: convene_unary(args, servers["convene"], level, args.seconds, args.warmup)),
                    ("Convene, gRPC listener", lambda: grpc_unary_port(args, servers["convene"].pid, grpc_port, level,
                                                                       args.seconds, args.warmup)),
                    ("gRPC C++ (callback API)", lambda: grpc_unary(args, servers["grpc"], level, args.seconds, args.warmup)),
                    (f"Redis PING, {level} connection(s), unpipelined",
                     lambda: redis_ping(args, servers["redis"], level, 1, args.seconds)),
                    (f"Redis PING, 1 connection, pipelined {level} deep",
                     lambda: redis_ping(args, servers["redis"], 1, level, args.seconds)),
                ]
                for name, case in cases:
                    if level == 1 and "pipelined 1 deep" in name:
                        continue  # the same as unpipelined on one connection
                    rows.setdefault((name.replace(f"{level} connection(s)", "N connections")
                                         .replace(f"pipelined {level} deep", "pipelined N deep"), level), []).append(case())
            if not args.plugins_only:
                stream.append(convene_stream(args, servers["convene"], args.seconds, args.warmup))
        idle = None
        if args.idle_connections and not args.plugins_only:
            out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/idle-connections.py"),
                                  "--port", str(servers["convene"].port), "--pid", str(servers["convene"].pid),
                                  "--count", str(args.idle_connections), "--convene", args.convene],
                                 capture_output=True, text=True, timeout=600)
            idle = out.stdout.strip() if out.returncode == 0 else f"failed: {out.stderr.strip()}"
    finally:
        for server in servers.values():
            server.stop()
        for server, _ in plugin_servers.values():
            server.stop()
            shutil.rmtree(server.folder, ignore_errors=True)
        shutil.rmtree(data_dir, ignore_errors=True)

    lines = [f"Medians of {args.repeats} runs; {args.seconds:g} s measured after {args.warmup:g} s of warm-up; "
             f"{args.payload}-byte payload; one connection unless the row says otherwise; "
             f"{os.cpu_count()} cores shared by client and server."]
    if rows:
        lines += ["", "| server | in flight | calls/s | p50 µs | p99 µs | server CPU µs/call | (min-max of rounds) |",
                  "|---|---|---|---|---|---|---|"]
    names = []
    for (name, _level) in rows:
        if name not in names:
            names.append(name)
    for name in names:
        for level in levels:
            results = rows.get((name, level))
            if not results:
                continue
            lines.append(f"| {name} | {level} | {median(results, 'rps'):,.0f} | {median(results, 'p50_us'):,.0f} | "
                         f"{median(results, 'p99_us'):,.0f} | {median(results, 'cpu_us_per_call'):.2f} | "
                         f"{spread(results, 'cpu_us_per_call', '{:.2f}')} |")
    lines.append("")
    for level in levels:
        convene_grpc = rows.get(("Convene, gRPC listener", level))
        grpc = rows.get(("gRPC C++ (callback API)", level))
        if convene_grpc and grpc:
            lines.append(f"- at {level} in flight: Convene's gRPC listener/gRPC C++ server CPU per call = "
                         f"{median(convene_grpc, 'cpu_us_per_call') / median(grpc, 'cpu_us_per_call'):.2f}")
    for level in levels:
        convene = rows.get(("Convene", level))
        grpc = rows.get(("gRPC C++ (callback API)", level))
        redis = rows.get(("Redis PING, N connections, unpipelined", level))
        piped = rows.get(("Redis PING, 1 connection, pipelined N deep", level))
        if convene and grpc:
            c = median(convene, "cpu_us_per_call")
            parts = [f"at {level} in flight: Convene/gRPC C++ server CPU per call = {c / median(grpc, 'cpu_us_per_call'):.2f}"]
            if redis:
                parts.append(f"Convene/Redis unpipelined = {c / median(redis, 'cpu_us_per_call'):.2f}")
            if piped:
                parts.append(f"Convene/Redis pipelined = {c / median(piped, 'cpu_us_per_call'):.2f}")
            lines.append("- " + "; ".join(parts))
    if stream:
        mib = median(stream, "mib_per_s")
        gbs = [r["mib_per_s"] * 1.048576 / 1000 for r in stream if r.get("mib_per_s") is not None]
        lines += ["", f"Server streaming, 1 MiB messages, one connection (Convene): {mib * 1.048576 / 1000:.2f} GB/s "
                      f"median, {min(gbs):.2f} GB/s minimum, {max(gbs):.2f} maximum of {len(gbs)} rounds "
                      f"({mib:,.0f} MiB/s), p99 gap {median(stream, 'p99_us'):,.0f} µs, "
                      f"server CPU {median(stream, 'cpu_us_per_call'):,.0f} µs per MiB message."]
    if idle:
        lines += ["", idle]
    if plugin_rows:
        lines += ["", "The plugin boundary: the template plugin's Echo against the built-in echo in the same server "
                      "(server CPU includes an isolated plugin's runner process).", "",
                  "| plugin | in flight | echo calls/s | plugin calls/s | echo p50 µs | plugin p50 µs | added p50 µs "
                  "| echo CPU µs/call | plugin CPU µs/call | plugin/echo CPU |", "|---|---|---|---|---|---|---|---|---|---|"]
        for isolation in ["in-process", "process"]:
            for level in levels:
                echo, plugin = plugin_rows.get((isolation, "echo", level)), plugin_rows.get((isolation, "plugin", level))
                if not echo or not plugin:
                    continue
                e_cpu, p_cpu = median(echo, "cpu_us_per_call"), median(plugin, "cpu_us_per_call")
                lines.append(f"| {isolation} | {level} | {median(echo, 'rps'):,.0f} | {median(plugin, 'rps'):,.0f} | "
                             f"{median(echo, 'p50_us'):,.0f} | {median(plugin, 'p50_us'):,.0f} | "
                             f"{median(plugin, 'p50_us') - median(echo, 'p50_us'):,.0f} | {e_cpu:.2f} | {p_cpu:.2f} | "
                             f"{p_cpu / e_cpu:.2f} |")
    report = "\n".join(lines)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
