#!/usr/bin/env python3
"""`make soak`: mixed load on a release convened on 127.0.0.1 for a bounded time.

Runs at once, for --seconds in all:
  - unary echo, closed loop, 32 calls in flight on 2 connections;
  - bidirectional streams and server streams of the benchmark service;
  - the demo (`convene demo`): parties, meetings, statements, reports and refusals
    through the consultation, briefing and lessons services, written to the database;
  - connection churn: a new connection for each `convene health`;
  - plugin calls: the template plugin's Echo, 16 in flight, as an operator party (the
    plugin loaded in the server's process by default, --plugin-isolation), so that what the
    host keeps per plugin call shows in the server's memory.
Every --interval seconds it prints throughput and errors per load, and the server's
resident memory and CPU. At the end it checks that memory levelled off: the peak of the
last third of the run may exceed the peak of the middle third by at most --growth-percent
(plus --growth-slack-mib); else it exits 1. Every loop is bounded in count and time.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from convene_admin import operator_token
from procstat import cpu_seconds, free_port, rss_kib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Load(threading.Thread):
    """Runs one kind of load in slices of a quarter of `interval` until `end`, counting what they did."""

    def __init__(self, name, command_for_slice, end, interval):
        super().__init__(daemon=True)
        self.name, self.command_for_slice, self.end, self.interval = name, command_for_slice, end, interval
        self.lock = threading.Lock()
        self.done = 0
        self.errors = 0
        self.failures = []

    def add(self, done, errors):
        with self.lock:
            self.done += done
            self.errors += errors

    def take(self):
        with self.lock:
            done, errors = self.done, self.errors
            self.done = self.errors = 0
            return done, errors

    def run(self):
        runs = 0
        while time.time() < self.end and runs < 100_000:
            runs += 1
            # Slices much shorter than the reporting interval, so each interval sees several.
            seconds = max(0.5, min(self.interval / 4, self.end - time.time()))
            command = self.command_for_slice(seconds)
            try:
                out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
            except subprocess.TimeoutExpired:
                self.add(0, 1)
                self.failures.append(f"{self.name}: timed out")
                continue
            self.parse(out)

    def parse(self, out):
        if out.returncode != 0:
            self.add(0, 1)
            self.failures.append(f"{self.name}: exit {out.returncode}: {out.stderr.strip()[:200]}")
            return
        try:
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.add(1, 0)  # a command that is not a bench (demo, health) counts as one operation
            return
        self.add(int(result.get("requests", 0)), int(result.get("errors", 0)))


class Repeated(Load):
    """Runs a short command over and over (each run one operation)."""

    def run(self):
        runs = 0
        while time.time() < self.end and runs < 1_000_000:
            runs += 1
            try:
                out = subprocess.run(self.command_for_slice(0), capture_output=True, text=True, timeout=120)
            except subprocess.TimeoutExpired:
                self.add(0, 1)
                self.failures.append(f"{self.name}: timed out")
                continue
            if out.returncode != 0:
                self.add(0, 1)
                self.failures.append(f"{self.name}: exit {out.returncode}: {out.stderr.strip()[:200]}")
            else:
                self.add(1, 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--interval", type=float, default=20)
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build/release"))
    parser.add_argument("--growth-percent", type=float, default=10)
    parser.add_argument("--growth-slack-mib", type=float, default=16)
    parser.add_argument("--plugin-isolation", choices=["in-process", "process"], default="in-process")
    args = parser.parse_args()
    if not 10 <= args.seconds <= 3600:
        sys.exit("--seconds must be within 10 and 3600")
    convene = os.path.join(args.bin, "convene")
    data_dir = tempfile.mkdtemp(prefix="convene-soak-")
    plugins_dir = os.path.join(data_dir, "plugins")
    os.mkdir(plugins_dir)
    # The mechanism plugins (the demo calls them) and the template plugin (the plugin load).
    libraries = glob.glob(os.path.join(args.bin, "libConvenePlugin_*.so")) + [os.path.join(args.bin, "libConveneTemplatePlugin.so")]
    for library in libraries:
        if not os.path.exists(library):
            sys.exit(f"{library} is missing: build everything in release first (make soak does)")
        shutil.copy(library, plugins_dir)
    port = free_port()
    server = subprocess.Popen([os.path.join(args.bin, "convened"), "--port", str(port), "--grpc-port", "0", "--data-dir", data_dir,
                               "--log-level", "error", "--plugins-dir", plugins_dir,
                               "--plugin-isolation", args.plugin_isolation],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = ["--target", f"127.0.0.1:{port}"]
    deadline = time.time() + 30
    while subprocess.run([convene, *target, "health", "--timeout", "1"], capture_output=True).returncode != 0:
        if time.time() > deadline or server.poll() is not None:
            sys.exit("convened did not start")
        time.sleep(0.2)
    token = ["--token-file", os.path.join(data_dir, "admin.token")]
    operator = ["--token-file", operator_token(convene, port, os.path.join(data_dir, "admin.token"), data_dir, "soak")]

    start = time.time()
    end = start + args.seconds
    bench = [convene, *target, *token, "bench", "--warmup", "0", "--json"]
    loads = [
        Load("unary", lambda s: bench + ["--duration", f"{s:.1f}", "--connections", "2", "--concurrency", "32"], end,
             args.interval),
        Load("bidi", lambda s: bench + ["--duration", f"{s:.1f}", "--kind", "bidi", "--concurrency", "4",
                                        "--payload", "1024"], end, args.interval),
        Load("server-stream", lambda s: bench + ["--duration", f"{s:.1f}", "--kind", "server-stream",
                                                 "--concurrency", "2", "--payload", "16384"], end, args.interval),
        Repeated("demo", lambda s: [convene, *target, *token, "demo"], end, args.interval),
        Repeated("health", lambda s: [convene, *target, "health", "--timeout", "5"], end, args.interval),
        Load("plugin", lambda s: [convene, *target, *operator, "bench", "--warmup", "0", "--json", "--duration", f"{s:.1f}",
                                  "--concurrency", "16", "--path", "/convene.example.v1.Example/Echo"], end, args.interval),
    ]
    for load in loads:
        load.start()

    print(f"soak: {args.seconds:g} s of mixed load on 127.0.0.1:{port}, a line every {args.interval:g} s")
    header = f"{'t (s)':>6} {'RSS MiB':>8} {'CPU %':>6} " + " ".join(f"{l.name + '/s':>15} {'err':>4}" for l in loads)
    print(header)
    samples = []
    total_errors = 0
    last_cpu, last_time = cpu_seconds(server.pid), time.time()
    while time.time() < end:
        time.sleep(max(0.0, min(args.interval, end - time.time())))
        if server.poll() is not None:
            sys.exit(f"convened exited with {server.returncode} during the soak")
        now = time.time()
        cpu = cpu_seconds(server.pid)
        rss = rss_kib(server.pid) / 1024
        elapsed = now - last_time
        counts = [load.take() for load in loads]
        total_errors += sum(errors for _, errors in counts)
        samples.append((now - start, rss))
        print(f"{now - start:6.0f} {rss:8.1f} {100 * (cpu - last_cpu) / elapsed:6.0f} "
              + " ".join(f"{done / elapsed:15,.0f} {errors:4d}" for done, errors in counts), flush=True)
        last_cpu, last_time = cpu, now
    for load in loads:
        load.join(timeout=180)
    total_errors += sum(errors for _, errors in (load.take() for load in loads))
    failures = [f for load in loads for f in load.failures]

    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    subprocess.run(["rm", "-rf", data_dir])

    third = max(1, len(samples) // 3)
    middle = max(r for _, r in samples[third:2 * third] or samples)
    last = max(r for _, r in samples[2 * third:] or samples)
    allowed = middle * (1 + args.growth_percent / 100) + args.growth_slack_mib
    print(f"memory: peak {middle:.1f} MiB in the middle third, {last:.1f} MiB in the last third "
          f"(allowed {allowed:.1f}); convened exited {server.returncode}")
    errors = len(failures) + total_errors
    if failures:
        print("failures:\n  " + "\n  ".join(failures[:20]))
    if last > allowed:
        print("FAIL: memory did not level off")
        sys.exit(1)
    if errors or server.returncode != 0:
        print("FAIL: errors during the soak")
        sys.exit(1)
    print("ok: memory levelled off, no errors")


if __name__ == "__main__":
    main()
