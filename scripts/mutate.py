#!/usr/bin/env python3
"""`make mutate`: breaks one rule at a time (scripts/mutations.py), rebuilds incrementally, runs
the tests that should catch it, and prints the score. Every mutant must be killed: a survivor
is a rule no test guards. The sources are restored after each mutant, whatever happens.

usage: scripts/mutate.py [--only SUBSTRING] [--list]
"""
import argparse
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from mutations import MUTATIONS  # noqa: E402


def run(command, timeout):
    started = time.time()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr, time.time() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the mutants whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the mutants and check they apply, without running")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if not args.only or args.only in m[0]]

    stale = []
    for name, _layer, path, find, _replace, _tests in chosen:
        with open(os.path.join(ROOT, path)) as f:
            count = f.read().count(find)
        if count != 1:
            stale.append(f"{name}: the text to replace occurs {count} times in {path}")
    if stale:
        print("stale mutations (the code moved; update scripts/mutations.py):\n  " + "\n  ".join(stale))
        return 2
    layers = sorted({m[1] for m in chosen})
    print(f"{len(chosen)} mutants across {', '.join(layers)}")
    if args.list:
        for name, layer, path, *_ in chosen:
            print(f"  [{layer}] {name} ({path})")
        return 0

    code, output, _ = run(["swift", "build", "--build-tests"], 3600)
    if code != 0:
        print(output[-3000:])
        print("the unmutated build fails")
        return 2

    killed, survived, broken = [], [], []
    for name, layer, path, find, replace, tests in chosen:
        full = os.path.join(ROOT, path)
        with open(full) as f:
            original = f.read()
        try:
            with open(full, "w") as f:
                f.write(original.replace(find, replace, 1))
            code, output, build_seconds = run(["swift", "build", "--build-tests"], 3600)
            if code != 0:
                broken.append(name)
                verdict = "does not compile (fix the mutation)"
            else:
                code, output, test_seconds = run(["swift", "test", "--skip-build", "--filter", tests], 1800)
                if code != 0:
                    killed.append(name)
                    verdict = f"killed by {tests} ({test_seconds:.0f} s)"
                else:
                    survived.append(name)
                    verdict = f"SURVIVED {tests}"
            print(f"[{layer:9}] {name}: {verdict}", flush=True)
        finally:
            with open(full, "w") as f:
                f.write(original)
    run(["swift", "build", "--build-tests"], 3600)  # leave the build as the sources are
    total = len(chosen)
    print(f"\nscore: {len(killed)}/{total} killed, {len(survived)} survived, {len(broken)} did not compile")
    for name in survived:
        print(f"  survived: {name}")
    return 0 if len(killed) == total else 1


if __name__ == "__main__":
    sys.exit(main())
