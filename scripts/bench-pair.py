#!/usr/bin/env python3
"""Two Convene servers side by side: what one difference costs on the hot path.

`make bench-metrics` (`--metrics`): the same release build twice, but for `--metrics-port`:
one with metrics on (every call counted and timed, connections and bytes counted, /metrics
served), one without. The metrics server is scraped before and after: the count of echo
calls must have grown by the calls made, so the figures are of metrics that really counted.

`make bench-before-after` (`--baseline-bin DIR`): this build against an earlier one (each
server driven by its own `convene`), the benchmark open on both and called without a
credential, so that the same work is measured; with `--with-credential`, both called with
the administrator's credential (as `make bench-compare` calls it), to measure a change to
authorization.

`convene bench` drives the built-in 64-byte echo on one connection of each server, at 1,
16 and 64 calls in flight, the two servers taking turns in every round (the order swapped
each round) so that drift in the machine's load hits them alike; the server's CPU per call
is read from /proc before and after each measured run. Reports, per level, the median and
the min-max of the rounds for each server, and the median (min-max) of the rounds' paired
ratios. Every process listens on 127.0.0.1 only, and every run is bounded in time.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request

from procstat import cpu_seconds, free_port, stop_process, wait_for_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ECHO_CALLS = re.compile(r'^convene_calls_total\{(?=[^}]*service="convene\.benchmark\.v1\.Benchmark")'
                        r'(?=[^}]*method="UnaryEcho")[^}]*\} (\S+)$', re.M)


def help_text(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=30)
    return out.stdout + out.stderr


class Server:
    """convened from `bin_dir`, with `extra` arguments; its own `convene` drives it."""

    def __init__(self, name, bin_dir, data_dir, extra=(), metrics=False, credential=True):
        self.name = name
        self.convene = os.path.join(bin_dir, "convene")
        binary = os.path.join(bin_dir, "convened")
        self.port = free_port()
        self.metrics_port = free_port() if metrics else None
        command = [binary, "--port", str(self.port), "--data-dir", data_dir, "--log-level", "error", *extra]
        if "--grpc-port" in help_text(binary):
            command += ["--grpc-port", "0"]
        if not credential and "--open-benchmark" in help_text(binary):
            command += ["--open-benchmark"]
        if metrics:
            command += ["--metrics-port", str(self.metrics_port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)
        if metrics:
            wait_for_port(self.metrics_port, self.process)
        self.token_file = os.path.join(data_dir, "admin.token") if credential else None

    def echo_calls_counted(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as response:
            text = response.read().decode()
        return sum(float(value) for value in ECHO_CALLS.findall(text))


def bench(server, in_flight, seconds, warmup, payload):
    credential = ["--token-file", server.token_file] if server.token_file else []
    command = [server.convene, "--target", f"127.0.0.1:{server.port}", *credential, "bench", "--connections", "1", "--concurrency", str(in_flight), "--payload", str(payload),
               "--warmup", "0", "--json"]

    def run(duration):
        out = subprocess.run(command + ["--duration", str(duration)], capture_output=True, text=True,
                             timeout=duration + 60)
        if out.returncode != 0:
            sys.exit(f"convene bench failed ({out.returncode}): {out.stderr.strip()}")
        return json.loads(out.stdout.strip().splitlines()[-1])
    warm = run(warmup)
    before = cpu_seconds(server.process.pid)
    result = run(seconds)
    spent = cpu_seconds(server.process.pid) - before
    result["cpu_us_per_call"] = spent * 1e6 / result["requests"] if result["requests"] else float("nan")
    result["calls_made"] = warm["requests"] + result["requests"]
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", action="store_true", help="this build with and without --metrics-port")
    parser.add_argument("--baseline-bin", help="a folder with an earlier build's convened and convene")
    parser.add_argument("--seconds", type=float, default=4, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--levels", default="1,16,64")
    parser.add_argument("--payload", type=int, default=64)
    parser.add_argument("--convene-bin", default=os.path.join(ROOT, ".build/release"))
    parser.add_argument("--with-credential", action="store_true",
                        help="with --baseline-bin: call both with the administrator's credential")
    args = parser.parse_args()
    if args.metrics == bool(args.baseline_bin):
        sys.exit("say what to compare: --metrics or --baseline-bin DIR")
    levels = [int(x) for x in args.levels.split(",")]
    data_dir = tempfile.mkdtemp(prefix="convene-bench-pair-")
    if args.metrics:
        cases = [("metrics off", dict(bin_dir=args.convene_bin)), ("metrics on", dict(bin_dir=args.convene_bin, metrics=True))]
    else:
        cases = [("baseline", dict(bin_dir=args.baseline_bin, credential=args.with_credential)),
                 ("this build", dict(bin_dir=args.convene_bin, credential=args.with_credential))]
    servers = []
    rows = {}  # (case index, level) -> [results]
    made = 0
    try:
        for index, (name, options) in enumerate(cases):
            os.makedirs(os.path.join(data_dir, str(index)))
            servers.append(Server(name, data_dir=os.path.join(data_dir, str(index)), **options))
        counted_before = servers[1].echo_calls_counted() if args.metrics else 0
        for repeat in range(args.repeats):
            order = [0, 1] if repeat % 2 == 0 else [1, 0]
            for level in levels:
                print(f"round {repeat + 1}/{args.repeats}, {level} in flight", file=sys.stderr, flush=True)
                for index in order:
                    result = bench(servers[index], level, args.seconds, args.warmup, args.payload)
                    rows.setdefault((index, level), []).append(result)
                    if index == 1:
                        made += result["calls_made"]
        counted = servers[1].echo_calls_counted() - counted_before if args.metrics else 0
    finally:
        for server in servers:
            stop_process(server.process)
        shutil.rmtree(data_dir, ignore_errors=True)

    if args.metrics and counted < made:
        sys.exit(f"the metrics counted {counted:.0f} echo calls of the {made} made: they were not measuring")
    (a, _), (b, _) = cases
    print(f"Server CPU per {args.payload}-byte echo call on the native listener, one connection, medians of "
          f"{args.repeats} rounds of {args.seconds:g} s (after {args.warmup:g} s of warm-up), the servers taking "
          f"turns; {os.cpu_count()} cores shared by client and servers; load average at the end "
          f"{os.getloadavg()[0]:.2f}." + (f" The metrics server counted {counted:.0f} echo calls, all that were made."
                                          if args.metrics else ""))
    print()
    print(f"| in flight | {a} µs/call (min-max) | {b} µs/call (min-max) | {b} / {a}, median of paired rounds (min-max) "
          f"| calls/s {a} / {b} |")
    print("|---|---|---|---|---|")
    for level in levels:
        first, second = rows[(0, level)], rows[(1, level)]
        cpu = lambda results: [r["cpu_us_per_call"] for r in results]  # noqa: E731
        ratios = [y / x for x, y in zip(cpu(first), cpu(second)) if x > 0]
        print(f"| {level} | {statistics.median(cpu(first)):.2f} ({min(cpu(first)):.2f}-{max(cpu(first)):.2f}) | "
              f"{statistics.median(cpu(second)):.2f} ({min(cpu(second)):.2f}-{max(cpu(second)):.2f}) | "
              f"{statistics.median(ratios):.3f} ({min(ratios):.3f}-{max(ratios):.3f}) | "
              f"{statistics.median(r['rps'] for r in first):,.0f} / {statistics.median(r['rps'] for r in second):,.0f} |")


if __name__ == "__main__":
    main()
