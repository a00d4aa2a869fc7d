#!/usr/bin/env python3
"""Runs the whole test suite (`make test`), in parallel lanes, after `swift build --build-tests`.

Most suites spend their time waiting for servers they start, so one lane leaves a core idle;
`swift test` cannot run twice at once (SwiftPM locks its build folder), so this runs the test
bundle itself, one job per test class (small classes grouped), on `--jobs` lanes (the cores):

  * every XCTest class once, on SQLite;
  * the ConveneServiceTests classes again on PostgreSQL (CONVENE_TEST_STORE=postgres), but for
    the store-independent ones (STORE_INDEPENDENT below);
  * the Swift Testing tests;
  * the gRPC listener against grpcio (scripts/grpc-python-tests.sh).

Longest jobs start first: the times of the last run here (.build/test-times.json), else
those of scripts/test-times.json (copy the first over the second when suites change much). Each job's output is printed whole when it ends; the summary names every failed job,
and the exit status is 1 if any failed. Run it beside a PostgreSQL (scripts/with-postgres.sh).

usage: scripts/run-tests.py [--jobs N] [--only REGEX] [--no-grpcio]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Suites of ConveneServiceTests the PostgreSQL pass leaves out: what they test is the plugin
# boundary (a runner process, its faults and its trust) or the network, the same code whichever
# store is behind it; each runs once, on SQLite. The Isolated* suites repeat in a runner process
# suites the PostgreSQL pass runs in process.
STORE_INDEPENDENT = re.compile(
    r"ConveneServiceTests\.(Isolated[A-Za-z]*|PluginSandbox[A-Za-z]*|PluginFaultTests|PluginProcessTests"
    r"|PluginRunnerTrustTests|RunnerChannelTests|PluginHostUnitTests|RefusalTableTests|InMemoryServiceTests)$")

# A job that runs longer than this is ended and counted failed (every test bounds itself far below).
JOB_LIMIT_SECONDS = 20 * 60
# A class that took this long runs alone; shorter ones are grouped into runs of the bundle of
# about GROUP_SECONDS (at most GROUP_SIZE classes): each run costs about half a second before
# its first test.
LONG_SECONDS = 20.0
GROUP_SECONDS = 15.0
GROUP_SIZE = 8
TIMES_FILE = os.path.join(ROOT, ".build", "test-times.json")
HINTS_FILE = os.path.join(ROOT, "scripts", "test-times.json")


class Job:
    def __init__(self, name, command, env=None, weight=0.0, store="sqlite", tests=None):
        self.name, self.command, self.env, self.weight, self.store = name, command, env or {}, weight, store
        # How many XCTest tests the job must run (None: not an XCTest job).
        self.tests = tests
        self.status, self.seconds, self.output = None, 0.0, ""


def bin_path():
    return subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def xctest_classes(bundle):
    """The bundle's XCTest classes, in order, with how many tests each has."""
    listed = subprocess.run([bundle, "--list-tests"], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    classes = {}
    for line in listed.splitlines():
        match = re.match(r"^(\w+\.\w+)/\w+$", line.strip())
        if match:
            classes[match.group(1)] = classes.get(match.group(1), 0) + 1
    return classes


def time_key(name, store):
    """A class's key in the times files: its name, with the store when not SQLite."""
    return name if store == "sqlite" else f"{name} ({store})"


def plan(bundle, past, grpcio, only):

    runs = []
    counts = xctest_classes(bundle)
    for store, env in (("sqlite", {}), ("postgres", {"CONVENE_TEST_STORE": "postgres"})):
        def weight(name):
            return past.get(time_key(name, store), 0.0)

        classes = list(counts)
        if store == "postgres":
            classes = [c for c in classes if c.startswith("ConveneServiceTests.") and not STORE_INDEPENDENT.match(c)]
        if only:
            classes = [c for c in classes if re.search(only, c)]
        long_ones = [c for c in classes if weight(c) >= LONG_SECONDS]
        short = [c for c in classes if c not in long_ones]
        for name in long_ones:
            runs.append(Job(f"{name} ({store})", [bundle, name], env, weight(name), store, counts[name]))
        groups, group = [], []
        for name in short:
            if group and (len(group) == GROUP_SIZE or sum(weight(c) for c in group) + weight(name) > GROUP_SECONDS):
                groups.append(group)
                group = []
            group.append(name)
        if group:
            groups.append(group)
        for group in groups:
            label = group[0] if len(group) == 1 else f"{group[0]} .. {group[-1]} ({len(group)} classes)"
            runs.append(Job(f"{label} ({store})", [bundle, ",".join(group)], env, sum(weight(c) for c in group), store,
                            sum(counts[c] for c in group)))
    if not only:
        runs.append(Job("swift-testing", [bundle, "--testing-library", "swift-testing"], {}, 1.0))
        if grpcio:
            runs.append(Job("grpcio", [os.path.join(ROOT, "scripts", "grpc-python-tests.sh")], {}, past.get("grpcio", 0.0)))
    runs.sort(key=lambda job: -job.weight)
    return runs


def run(job, print_lock):
    env = dict(os.environ, **job.env)
    started = time.monotonic()
    with tempfile.TemporaryFile(mode="w+") as output:
        process = subprocess.Popen(job.command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            job.status = process.wait(timeout=JOB_LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()
            job.status = f"ended after {JOB_LIMIT_SECONDS} s"
        job.seconds = time.monotonic() - started
        output.seek(0)
        job.output = output.read()
    if job.status == 0 and job.tests is not None:
        # A class the bundle did not run (a filter that matched nothing) must not pass unseen.
        executed = re.findall(r"Test Suite 'Selected tests' (?:passed|failed) at .*\n\s*Executed (\d+) tests?", job.output)
        ran = int(executed[-1]) if executed else 0
        if ran != job.tests:
            job.status = f"ran {ran} tests of the {job.tests} listed"
    with print_lock:
        verdict = "passed" if job.status == 0 else f"FAILED ({job.status})"
        print(f"==== {job.name}: {verdict} in {job.seconds:.1f} s", flush=True)
        sys.stdout.write(job.output)
        sys.stdout.flush()


def class_times(jobs):
    """Per class (and grpcio), the seconds its tests took, from the jobs' output."""
    times = {}
    for job in jobs:
        if job.name == "grpcio":
            times["grpcio"] = job.seconds
        for match in re.finditer(r"Test Suite '(\w+)' (?:passed|failed) at .*\n\s*Executed \d+ tests?, .* in ([\d.]+) \(",
                                 job.output):
            name = next((c for c in job.command[1].split(",") if c.endswith("." + match.group(1))), None)
            if name:
                times[time_key(name, job.store)] = float(match.group(2))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("CONVENE_TEST_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--only", help="only the test classes matching this regular expression (no grpcio)")
    parser.add_argument("--no-grpcio", action="store_true")
    args = parser.parse_args()

    bundle = os.path.join(bin_path(), "ConvenePackageTests.xctest")
    past = {}
    for path in (HINTS_FILE, TIMES_FILE):
        try:
            with open(path) as file:
                past.update(json.load(file))
        except (OSError, ValueError):
            pass
    jobs = plan(bundle, past, not args.no_grpcio, args.only)
    print(f"{len(jobs)} jobs on {args.jobs} lanes", flush=True)
    started = time.monotonic()
    queue, queue_lock, print_lock = list(jobs), threading.Lock(), threading.Lock()

    def lane():
        while True:
            with queue_lock:
                if not queue:
                    return
                job = queue.pop(0)
            run(job, print_lock)

    lanes = [threading.Thread(target=lane) for _ in range(max(1, args.jobs))]
    for thread in lanes:
        thread.start()
    for thread in lanes:
        thread.join()

    if not args.only:
        past.update(class_times(jobs))
        os.makedirs(os.path.dirname(TIMES_FILE), exist_ok=True)
        with open(TIMES_FILE, "w") as file:
            json.dump(past, file, indent=1, sort_keys=True)
    failed = [job for job in jobs if job.status != 0]
    print(f"\n{len(jobs)} jobs in {time.monotonic() - started:.0f} s on {args.jobs} lanes; "
          f"{len(failed)} failed{':' if failed else ''}")
    for job in failed:
        print(f"  FAILED {job.name}: {job.status}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
