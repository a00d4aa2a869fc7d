#!/usr/bin/env python3
"""Holds COUNT idle Convene connections to a server on 127.0.0.1 and reports its resident
memory per connection. Each connection completes the handshake (preface and SETTINGS
both ways, Docs/PROTOCOL.md section 1) and then sends nothing. While they are all open,
`convene health` must still be answered; the server's CPU over a few idle seconds is
reported too. Prints one line.
"""
import argparse
import resource
import selectors
import socket
import struct
import subprocess
import sys
import time

from procstat import cpu_seconds, free_port, rss_kib

PREFACE = b"CNVN\x01\x00\x00\x00"
# SETTINGS frame: length, type 0, flags 0, stream 0; then (id, value) pairs.
SETTINGS_PAIRS = [(1, 65536), (2, 100), (3, 1 << 20), (4, 3), (5, 16384), (6, 4 << 20)]
SETTINGS = struct.pack(">IBBI", 6 * len(SETTINGS_PAIRS), 0, 0, 0) + b"".join(
    struct.pack(">HI", k, v) for k, v in SETTINGS_PAIRS)
SETTINGS_ACK = struct.pack(">IBBI", 0, 0, 1, 0)
# What the server sends back: its preface, its SETTINGS (36-byte payload) and the ACK of ours.
EXPECTED_BYTES = len(PREFACE) + 10 + 36 + 10


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True, help="the server's process id, for its RSS")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--convene", default=".build/release/convene")
    parser.add_argument("--timeout", type=float, default=120, help="bound on the whole handshake phase")
    args = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < args.count + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.count + 100), hard))

    time.sleep(1)
    before = rss_kib(args.pid)
    selector = selectors.DefaultSelector()
    sockets, received = [], {}
    deadline = time.time() + args.timeout
    for _ in range(args.count):
        s = socket.create_connection(("127.0.0.1", args.port), timeout=10)
        s.sendall(PREFACE + SETTINGS)
        s.setblocking(False)
        sockets.append(s)
        received[s.fileno()] = 0
        selector.register(s, selectors.EVENT_READ)
    done = 0
    while done < args.count and time.time() < deadline:
        for key, _ in selector.select(timeout=1):
            s = key.fileobj
            data = s.recv(4096)
            if not data:
                raise SystemExit(f"the server closed a connection after {done} handshakes")
            received[s.fileno()] += len(data)
            if received[s.fileno()] >= EXPECTED_BYTES:
                selector.unregister(s)
                s.setblocking(True)
                s.sendall(SETTINGS_ACK)
                done += 1
    if done < args.count:
        raise SystemExit(f"only {done} of {args.count} handshakes completed within {args.timeout} s")

    time.sleep(2)
    after = rss_kib(args.pid)
    cpu_start = cpu_seconds(args.pid)
    time.sleep(5)
    idle_cpu = cpu_seconds(args.pid) - cpu_start
    health = subprocess.run([args.convene, "--target", f"127.0.0.1:{args.port}", "health", "--timeout", "10"],
                            capture_output=True, text=True, timeout=30)
    for s in sockets:
        s.close()
    per_connection = (after - before) / args.count
    print(f"Idle connections (Convene): {args.count:,} held after a complete handshake; server RSS "
          f"{before / 1024:.1f} MiB before, {after / 1024:.1f} MiB with them open: {per_connection:.1f} KiB per "
          f"connection; server CPU over 5 idle seconds {idle_cpu * 1000:.0f} ms; health while open: "
          f"{health.stdout.strip() or health.stderr.strip()}.")
    if health.returncode != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
