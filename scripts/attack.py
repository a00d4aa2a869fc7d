#!/usr/bin/env python3
"""`make attack`: replays the attacks of issue 11 against a release convened on 127.0.0.1,
each for a bounded time, while a prober in its own process calls health, an echo and an
authenticated method from other connections (from 127.0.0.1; attackers use 127.0.0.2 and
up, so that the per-address limit is theirs), and prints one row per attack:

    attack | server RSS before / peak / 10 s after | prober calls, success, p99 | alive

Acceptance (issue 11): no crash; RSS never above the budget (--max-buffered-bytes) plus a
fixed overhead; the prober's success 100 % with p99 under 100 ms; RSS 10 s after each attack
within 20 % of before. Everything listens on and connects to loopback only; every loop is
bounded in time. Usage: scripts/attack.py [--only NAME,...] [--seconds S] [--budget 256M]
"""
import argparse
import multiprocessing
import os
import resource
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import native_wire as nw  # noqa: E402
from procstat import cpu_seconds, free_port, rss_kib, stop_process  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEALTH = "/convene.health.v1.Health/Check"
ECHO = "/convene.benchmark.v1.Benchmark/UnaryEcho"
STREAM = "/convene.benchmark.v1.Benchmark/StreamFromServer"
LIST_PARTIES = "/convene.admin.v1.Administration/ListParties"
MIB = 1 << 20


# MARK: - The server

class Server:
    def __init__(self, binary, budget, extra=(), prefix=()):
        self.data_dir = tempfile.mkdtemp(prefix="convene-attack-")
        self.port, self.grpc_port = free_port(), free_port()
        self.log_path = os.path.join(self.data_dir, "convened.log")
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [*prefix, binary, "--port", str(self.port), "--grpc-port", str(self.grpc_port), "--data-dir", self.data_dir,
             "--max-buffered-bytes", budget, "--log-level", "info", *extra], stdout=self.log, stderr=self.log)
        deadline = time.time() + 60
        while True:
            if self.process.poll() is not None:
                sys.exit(f"convened exited with {self.process.returncode}; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    break
            except OSError:
                if time.time() > deadline:
                    sys.exit("convened does not listen")
                time.sleep(0.1)
        self.token = open(os.path.join(self.data_dir, "admin.token")).read().strip()

    @property
    def alive(self):
        return self.process.poll() is None

    def rss_mib(self):
        return rss_kib(self.process.pid) / 1024 if self.alive else float("nan")

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd")) if self.alive else 0

    def stop(self):
        started = time.monotonic()
        stop_process(self.process)
        self.log.close()
        return time.monotonic() - started

    def remove(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)


# MARK: - The prober (its own process)

def prober(port, token, results, stop, interval):
    """Calls health, the echo and ListParties in turn, each on a connection of its own,
    until `stop` is set; appends (time, ok, seconds) to `results`."""
    calls = [(HEALTH, b"", ()), (ECHO, nw.echo_request(b"probe"), nw.bearer(token)), (LIST_PARTIES, b"", nw.bearer(token))]
    clients = [None] * len(calls)
    turn = 0
    while not stop.is_set():
        index = turn % len(calls)
        turn += 1
        path, request, metadata = calls[index]
        started = time.monotonic()
        ok = False
        try:
            if clients[index] is None or clients[index].closed:
                clients[index] = nw.Client(port, "127.0.0.1", timeout=2)
            code, _, _ = clients[index].unary(path, request, metadata, timeout=2)
            ok = code == 0
        except (OSError, ConnectionError):
            if clients[index]:
                clients[index].close()
            clients[index] = None
        results.append((time.time(), ok, time.monotonic() - started, index))
        time.sleep(max(0.0, interval - (time.monotonic() - started)))


def p99(values):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


# MARK: - Attackers (each in its own process, bounded by `seconds`)

class Sources:
    """Loopback source addresses 127.0.0.2 and up, `per` connections each."""

    def __init__(self, per=200, first=2):
        self.per, self.index, self.count = per, first, 0

    def next(self):
        if self.count == self.per:
            self.index, self.count = self.index + 1, 0
        self.count += 1
        return f"127.0.0.{self.index}"


def open_native(port, count, sources, greet=True):
    socks = []
    for _ in range(count):
        try:
            sock = nw.connect(port, sources.next(), timeout=5)
            if greet:
                sock.sendall(nw.PREFACE + nw.settings())
            socks.append(sock)
        except OSError:
            pass
    return socks


def close_all(socks):
    for sock in socks:
        try:
            sock.close()
        except OSError:
            pass


def hold(socks, seconds, drain=False):
    """Keeps the connections open for `seconds`; reads what arrives only when `drain`."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if drain and socks:
            readable, _, _ = select.select(socks[:500], [], [], 0.2)
            for sock in readable:
                try:
                    sock.recv(1 << 16)
                except OSError:
                    pass
        else:
            time.sleep(0.2)


def send_nonblocking(sock, payload, until):
    """Writes as much of `payload` as the socket takes before `until`; False if it stalled."""
    view = memoryview(payload)
    while view:
        if time.monotonic() >= until:
            return False
        _, writable, _ = select.select([], [sock], [], 0.2)
        if writable:
            try:
                sent = sock.send(view)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                return False
            view = view[sent:]
    return True


def attack_timeout_crash(port, grpc_port, token, seconds):
    """One CALL to Health/Check with a timeout of 2^63-1 µs and no DATA, on 200 connections."""
    socks = open_native(port, 200, Sources())
    for sock in socks:
        try:
            sock.sendall(nw.call(1, HEALTH, timeout_us=(1 << 63) - 1))
        except OSError:
            pass
    hold(socks, seconds, drain=True)
    close_all(socks)


def attack_incomplete_messages(port, grpc_port, token, seconds):
    """32 connections x 100 calls, each sending the start of a 4 MiB message and no more:
    as much as the connection window (8 MiB) lets each connection send."""
    socks = open_native(port, 32, Sources())
    chunk = bytes(80 * 1024)
    for sock in socks:
        batch = b"".join(nw.call(s, HEALTH) + nw.data(s, nw.message(chunk, declared=4 * MIB)) for s in range(1, 200, 2))
        send_nonblocking(sock, batch, time.monotonic() + 5)
    hold(socks, seconds, drain=True)
    close_all(socks)


def attack_unread_echo(port, grpc_port, token, seconds):
    """8 connections pipelining 1 MiB UnaryEcho calls (with a credential) and never reading."""
    socks = open_native(port, 8, Sources())
    request = nw.message(nw.echo_request(bytes(MIB - 16)))
    end = time.monotonic() + seconds
    streams = [1] * len(socks)
    for sock in socks:
        sock.setblocking(False)
    while time.monotonic() < end:
        progressed = False
        for i, sock in enumerate(socks):
            s = streams[i]
            if send_nonblocking(sock, nw.call(s, ECHO, metadata=nw.bearer(token)) + nw.data(s, request, end=True),
                                min(end, time.monotonic() + 0.05)):
                streams[i] += 2
                progressed = True
        if not progressed:
            time.sleep(0.05)
    close_all(socks)


def attack_pipelined_calls(port, grpc_port, token, seconds):
    """8 connections pipelining Health/Check by the hundred thousand, reading the answers: the
    calls are all served, and each connection takes its turns with the others (`LoopTurns`)."""
    socks = open_native(port, 8, Sources())
    calls = b"".join(nw.call(s, HEALTH) + nw.data(s, nw.message(b""), end=True) for s in range(1, 400_000, 2))
    pending = [memoryview(calls) for _ in socks]
    for sock in socks:
        sock.setblocking(False)
    end = time.monotonic() + seconds
    while time.monotonic() < end and socks:
        _, writable, _ = select.select([], [s for i, s in enumerate(socks) if pending[i]], [], 0.05)
        for i, sock in enumerate(socks):
            if pending[i] and sock in writable:
                try:
                    pending[i] = pending[i][sock.send(pending[i][:MIB]):]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    pending[i] = memoryview(b"")
            try:
                while sock.recv(1 << 16):
                    pass
            except OSError:
                pass
        if not any(pending):
            time.sleep(0.05)
    close_all(socks)


def attack_metadata(port, grpc_port, token, seconds):
    """32 connections x 100 open calls, each CALL carrying as many tiny metadata entries as
    MAX_METADATA_SIZE lets through (each entry counts 32 bytes more than it encodes)."""
    socks = open_native(port, 32, Sources())
    entries = [(f"k{i}", "") for i in range(400)]
    for sock in socks:
        batch = b"".join(nw.call(s, HEALTH, metadata=entries) for s in range(1, 200, 2))
        send_nonblocking(sock, batch, time.monotonic() + 5)
    hold(socks, seconds, drain=True)
    close_all(socks)


def attack_call_cancel(port, grpc_port, token, seconds):
    """CALL-then-CANCEL on StreamFromServer of 4 MB messages, as fast as 4 connections go,
    each reconnecting at once when the server closes it."""
    sources = Sources()
    request = nw.message(nw.stream_request(1000, 4_000_000))
    end = time.monotonic() + seconds
    conns = [None] * 4
    while time.monotonic() < end:
        for i in range(len(conns)):
            if conns[i] is None:
                sock = open_native(port, 1, sources)
                if not sock:
                    continue
                sock[0].setblocking(False)
                conns[i] = [sock[0], 1]
            sock, stream = conns[i]
            batch = []
            for _ in range(50):
                batch.append(nw.call(stream, STREAM, metadata=nw.bearer(token)) + nw.data(stream, request, end=True)
                             + nw.cancel(stream))
                stream += 2
            conns[i][1] = stream
            alive = send_nonblocking(sock, b"".join(batch), min(end, time.monotonic() + 0.2))
            try:
                while True:
                    chunk = sock.recv(1 << 16)
                    if not chunk:
                        alive = False
                        break
            except BlockingIOError:
                pass
            except OSError:
                alive = False
            if not alive:
                sock.close()
                conns[i] = None
    close_all([c[0] for c in conns if c])


def attack_unread_streams(port, grpc_port, token, seconds):
    """8 connections x 100 StreamFromServer calls of 1000 messages of 4 MB, never read."""
    socks = open_native(port, 8, Sources())
    request = nw.message(nw.stream_request(1000, 4_000_000))
    for sock in socks:
        batch = b"".join(nw.call(s, STREAM, metadata=nw.bearer(token)) + nw.data(s, request, end=True)
                         for s in range(1, 200, 2))
        send_nonblocking(sock, batch, time.monotonic() + 5)
    hold(socks, seconds)
    close_all(socks)


def attack_connections(port, grpc_port, token, seconds):
    """1,500 connections from 6 addresses, each with an open, silent call; then all closed at once."""
    socks = open_native(port, 1500, Sources(per=250))
    for sock in socks:
        try:
            sock.sendall(nw.call(1, HEALTH))
        except OSError:
            pass
    refused = Sources(per=300, first=20)
    extra = open_native(port, 300, refused)  # one address past its limit: OVERLOADED
    hold(socks + extra, seconds)
    close_all(socks + extra)


def grpc_headers(path, token=None, extra=()):
    headers = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
               ("content-type", "application/grpc"), ("te", "trailers")]
    if token:
        headers.append(("authorization", f"Bearer {token}"))
    return headers + list(extra)


def h2_connection(port, source, window=65535):
    import h2.config
    import h2.connection
    import h2.settings
    sock = nw.connect(port, source, timeout=5)
    config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8", validate_outbound_headers=False,
                                       normalize_outbound_headers=False, validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=config)
    conn.local_settings = h2.settings.Settings(client=True, initial_values={
        h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window, h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
    conn.initiate_connection()
    if window > 65535:
        conn.increment_flow_control_window(window - 65535)
    sock.sendall(conn.data_to_send())
    # The server's SETTINGS and its first WINDOW_UPDATE (what it lets us send), then acks;
    # after this the attacks may never read again.
    import h2.events
    deadline = time.monotonic() + 2
    settled = False
    while not settled and time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], 0.1)
        if not readable:
            continue
        data = sock.recv(1 << 16)
        if not data:
            break
        for event in conn.receive_data(data):
            settled |= isinstance(event, h2.events.WindowUpdated) and event.stream_id == 0
    sock.sendall(conn.data_to_send())
    return sock, conn


def h2_send_body(conn, stream, body, end_stream=True):
    """Sends as much of `body` as the stream's and the connection's windows allow, in frames
    no larger than the server takes; returns how many bytes went."""
    sent = 0
    while sent < len(body):
        size = min(len(body) - sent, conn.local_flow_control_window(stream), conn.max_outbound_frame_size)
        if size <= 0:
            break
        conn.send_data(stream, body[sent:sent + size], end_stream=end_stream and sent + size == len(body))
        sent += size
    return sent


def attack_grpc_rapid_reset(port, grpc_port, token, seconds):
    """HEADERS then RST_STREAM, as fast as 4 HTTP/2 connections go (CVE-2023-44487)."""
    import h2.errors
    end = time.monotonic() + seconds
    sources = Sources()
    while time.monotonic() < end:
        try:
            sock, conn = h2_connection(grpc_port, sources.next())
            sock.setblocking(False)
            for _ in range(2000):
                stream = conn.get_next_available_stream_id()
                conn.send_headers(stream, grpc_headers(HEALTH))
                conn.reset_stream(stream, h2.errors.ErrorCodes.CANCEL)
            send_nonblocking(sock, conn.data_to_send(), min(end, time.monotonic() + 1))
            sock.close()
        except Exception:  # noqa: BLE001 (the server may GOAWAY mid-flood, as it should)
            pass


def attack_grpc_unread(port, grpc_port, token, seconds):
    """8 HTTP/2 connections pipelining 1 MiB UnaryEcho calls (with a credential) under huge
    receive windows, never reading after the handshake: as many calls as the server's
    windows let each connection send."""
    sources = Sources()
    conns = [h2_connection(grpc_port, sources.next(), window=(1 << 31) - 1) for _ in range(8)]
    body = nw.message(nw.echo_request(bytes(MIB - 16)))
    end = time.monotonic() + seconds
    for sock, _ in conns:
        sock.setblocking(False)
    while time.monotonic() < end:
        progressed = False
        for sock, conn in conns:
            if conn.outbound_flow_control_window <= 0:
                continue
            try:
                stream = conn.get_next_available_stream_id()
                conn.send_headers(stream, grpc_headers(ECHO, token))
                h2_send_body(conn, stream, body)
                send_nonblocking(sock, conn.data_to_send(), min(end, time.monotonic() + 0.1))
                progressed = True
            except Exception:  # noqa: BLE001 (the server may refuse or close, as it should)
                pass
        if not progressed:
            time.sleep(0.05)
    for sock, _ in conns:
        sock.close()


def attack_grpc_incomplete(port, grpc_port, token, seconds):
    """16 HTTP/2 connections x 100 calls, each with the start of a 4 MiB message and no more."""
    chunk = nw.message(bytes(40 * 1024), declared=4 * MIB)

    def open_call(conn):
        stream = conn.get_next_available_stream_id()
        conn.send_headers(stream, grpc_headers(HEALTH))
        h2_send_body(conn, stream, chunk, end_stream=False)
    hold_grpc_calls(grpc_port, open_call, seconds)


def attack_grpc_metadata(port, grpc_port, token, seconds):
    """16 HTTP/2 connections x 100 open calls whose headers are hundreds of tiny fields,
    each a literal the HPACK decoder must take apart (up to the 16 KiB header list size)."""
    fields = [(f"x{i}", "v") for i in range(400)]
    hold_grpc_calls(grpc_port, lambda conn: conn.send_headers(conn.get_next_available_stream_id(),
                                                             grpc_headers(HEALTH, extra=fields)), seconds)


def hold_grpc_calls(grpc_port, open_call, seconds, connections=16, calls=100):
    """`connections` HTTP/2 connections, each opening `calls` calls with `open_call(conn)`,
    held open (what the server sends is read) for `seconds`, then closed."""
    sources = Sources()
    conns = []
    for _ in range(connections):
        try:
            sock, conn = h2_connection(grpc_port, sources.next())
            for _ in range(calls):
                open_call(conn)
            send_nonblocking(sock, conn.data_to_send(), time.monotonic() + 5)
            conns.append(sock)
        except Exception:  # noqa: BLE001 (the server may refuse mid-way, as it should)
            pass
    hold(conns, seconds, drain=True)
    close_all(conns)


def control_idle(port, grpc_port, token, seconds):
    """No attack: the prober's figures on this machine, for comparison."""
    time.sleep(seconds)


def control_cpu(port, grpc_port, token, seconds):
    """No attack, but a process spinning on one core, as an attacker's does: what the
    machine's load alone does to the prober's figures."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


ATTACKS = [
    ("control-idle", "no attack (the prober alone)", control_idle),
    ("control-cpu", "no attack, one core kept busy by another process", control_cpu),
    ("timeout-crash", "one CALL with a 2^63-1 µs timeout, 200 connections", attack_timeout_crash),
    ("incomplete-messages", "32 conns x 100 calls, the start of 4 MiB messages", attack_incomplete_messages),
    ("unread-echo", "8 conns pipelining 1 MiB UnaryEcho, never reading", attack_unread_echo),
    ("pipelined-calls", "8 conns pipelining 200,000 Health/Check each, reading the answers", attack_pipelined_calls),
    ("metadata-entries", "32 conns x 100 calls of 400 tiny metadata entries", attack_metadata),
    ("call-cancel", "CALL+CANCEL of 4 MB StreamFromServer at full speed, reconnecting", attack_call_cancel),
    ("unread-streams", "8 conns x 100 streams of 4 MB messages, never read", attack_unread_streams),
    ("connections", "1,500 conns with silent calls (+300 over the per-address limit), all closed at once",
     attack_connections),
    ("grpc-rapid-reset", "gRPC: HEADERS+RST_STREAM floods", attack_grpc_rapid_reset),
    ("grpc-unread", "gRPC: 8 conns pipelining 1 MiB echo, huge windows, never read", attack_grpc_unread),
    ("grpc-incomplete", "gRPC: 16 conns x 100 calls, the start of 4 MiB messages", attack_grpc_incomplete),
    ("grpc-metadata", "gRPC: 16 conns x 100 calls of 400 header fields", attack_grpc_metadata),
]


# MARK: - Running one attack

def run_attack(server, name, function, seconds, settle, probe_results):
    before = statistics.median(sample_rss(server, 1.0))
    fds_before = server.descriptors()
    start = time.time()
    attacker = multiprocessing.Process(target=function, args=(server.port, server.grpc_port, server.token, seconds))
    attacker.start()
    peak, samples = before, []
    cpu_start = cpu_seconds(server.process.pid)
    limit = time.monotonic() + seconds + 60
    while attacker.is_alive() and time.monotonic() < limit:
        rss = server.rss_mib()
        peak = max(peak, rss)
        samples.append(rss)
        time.sleep(0.1)
    if attacker.is_alive():
        attacker.terminate()
    attacker.join()
    ended = time.time()
    cpu = cpu_seconds(server.process.pid) - cpu_start if server.alive else float("nan")
    # Connections closed: how long until the server let go of their descriptors.
    released_in = None
    release_deadline = time.monotonic() + settle
    while time.monotonic() < release_deadline:
        peak = max(peak, server.rss_mib())
        # Each event loop may open its pipe to itself (2 descriptors, `LoopTurns`) for good.
        if released_in is None and server.descriptors() <= fds_before + 5 + 2 * (os.cpu_count() or 1):
            released_in = time.time() - ended
        time.sleep(0.1)
    after = server.rss_mib()
    window = [r for r in list(probe_results) if start <= r[0] <= time.time()]
    latencies = [r[2] for r in window]
    by_call = [p99([r[2] for r in window if r[3] == i]) * 1000 for i in range(3)]
    return {
        "name": name, "before": before, "peak": peak, "after": after, "calls": len(window),
        "success": 100.0 * sum(1 for r in window if r[1]) / len(window) if window else float("nan"),
        "p99_ms": p99(latencies) * 1000, "alive": server.alive, "cpu_s": cpu, "released_s": released_in,
        "duration_s": ended - start, "p99_by_call": by_call,
    }


def sample_rss(server, seconds):
    values, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        values.append(server.rss_mib())
        time.sleep(0.1)
    return values


def fd_limit_check(binary, budget, probe_interval):
    """convened under RLIMIT_NOFILE 512: it lowers its connection limit to fit (and says so),
    refuses the connections beyond with OVERLOADED, and does not spin while refusing."""
    server = Server(binary, budget, extra=["--max-connections-per-address", "10000"],
                    prefix=["prlimit", "--nofile=512:512", "--"])
    try:
        socks, overloaded = [], 0
        for i in range(600):
            try:
                sock = nw.connect(server.port, f"127.0.1.{1 + i // 250}", timeout=5)
                sock.sendall(nw.PREFACE + nw.settings())
                socks.append(sock)
            except OSError:
                pass
        time.sleep(1)
        for sock in socks:
            sock.setblocking(False)
            try:
                chunk = sock.recv(4096)
                if b"OVERLOADED" in chunk or b"limit of" in chunk:
                    overloaded += 1
            except (BlockingIOError, OSError):
                pass
        cpu_start = cpu_seconds(server.process.pid)
        time.sleep(3)
        cpu = cpu_seconds(server.process.pid) - cpu_start
        close_all(socks)
        time.sleep(1)
        probe_ok = 0
        for _ in range(20):
            try:
                client = nw.Client(server.port, "127.0.2.1", timeout=2)
                code, _, _ = client.unary(HEALTH, timeout=2)
                probe_ok += code == 0
                client.close()
            except (OSError, ConnectionError):
                pass
        log = open(server.log_path, errors="replace").read()
        return {"connections": len(socks), "overloaded": overloaded, "cpu_3s": cpu,
                "lowered": "lowered it" in log, "health_after_close": probe_ok, "alive": server.alive}
    finally:
        server.stop()
        server.remove()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build/release"))
    parser.add_argument("--budget", default="256M")
    parser.add_argument("--seconds", type=float, default=15, help="length of each attack")
    parser.add_argument("--settle", type=float, default=10, help="seconds after each attack before RSS is read")
    parser.add_argument("--only", default="", help="comma-separated attack names")
    parser.add_argument("--probe-interval", type=float, default=0.02)
    parser.add_argument("--overhead", type=float, default=128, help="MiB allowed above the budget (fixed overhead)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    budget_mib = nw_size(args.budget) / MIB
    chosen = [a for a in ATTACKS if not args.only or a[0] in args.only.split(",")]
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; budget {args.budget}; "
          f"{args.seconds:.0f} s per attack, RSS read {args.settle:.0f} s after", flush=True)

    server = Server(os.path.join(args.bin, "convened"), args.budget)
    manager = multiprocessing.Manager()
    probe_results = manager.list()
    stop = multiprocessing.Event()
    probe = multiprocessing.Process(target=prober, args=(server.port, server.token, probe_results, stop, args.probe_interval))
    probe.start()
    time.sleep(2)
    rows = []
    try:
        for name, what, function in chosen:
            print(f"{name}: {what} ...", file=sys.stderr, flush=True)
            row = run_attack(server, name, function, args.seconds, args.settle, probe_results)
            rows.append(row)
            print(format_row(row, budget_mib, args.overhead), file=sys.stderr, flush=True)
            print("  p99 (ms) of health, echo, ListParties: " + ", ".join(f"{v:.1f}" for v in row["p99_by_call"]),
                  file=sys.stderr, flush=True)
            if not server.alive:
                break
    finally:
        stop.set()
        probe.join(timeout=10)
        shutdown = server.stop()
        print(f"SIGTERM to exit after the attacks: {shutdown:.2f} s", flush=True)
    fd = None
    if not args.only or "fd-limit" in args.only.split(","):
        fd = fd_limit_check(os.path.join(args.bin, "convened"), args.budget, args.probe_interval)
    print_table(rows, budget_mib, args.overhead, fd)
    log = open(server.log_path, errors="replace").read()
    crashes = [line for line in log.splitlines() if "Fatal error" in line or "crashed" in line]
    server.remove()
    failed = [r for r in rows if not verdict(r, budget_mib, args.overhead)[0]]
    if crashes:
        print("server log:", *crashes[:5], sep="\n  ")
    # Out of descriptors: the limit lowered, no spinning (well under a core), and served again.
    fd_failed = fd is not None and not (fd["lowered"] and fd["alive"] and fd["cpu_3s"] < 1.0
                                        and fd["health_after_close"] == 20)
    sys.exit(1 if failed or crashes or fd_failed else 0)


def nw_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def verdict(row, budget_mib, overhead):
    problems = []
    if not row["alive"]:
        problems.append("server died")
    if row["peak"] > budget_mib + overhead + row["before"]:
        problems.append("RSS over budget + overhead")
    if not row["success"] >= 100.0:
        problems.append("prober failures")
    if not row["p99_ms"] < 100:
        problems.append("p99 >= 100 ms")
    if not row["after"] <= row["before"] * 1.2:
        problems.append("RSS not back within 20 %")
    return not problems, ", ".join(problems) or "ok"


def format_row(row, budget_mib, overhead):
    released = f"{row['released_s']:.1f}" if row["released_s"] is not None else "-"
    return (f"| {row['name']} | {row['before']:.0f} | {row['peak']:.0f} | {row['after']:.0f} | {row['calls']} | "
            f"{row['success']:.1f} % | {row['p99_ms']:.1f} | {'yes' if row['alive'] else 'NO'} | {row['cpu_s']:.1f} | "
            f"{released} | {verdict(row, budget_mib, overhead)[1]} |")


def print_table(rows, budget_mib, overhead, fd):
    print()
    print("| attack | RSS before (MiB) | peak | 10 s after | prober calls | success | p99 (ms) | alive | server CPU (s) "
          "| descriptors released (s) | verdict |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(format_row(row, budget_mib, overhead))
    if fd:
        print()
        print(f"RLIMIT_NOFILE 512: connection limit lowered to fit: {'yes' if fd['lowered'] else 'NO'}; "
              f"{fd['connections']} connections opened, {fd['overloaded']} answered GOAWAY OVERLOADED; "
              f"server CPU over 3 s while they stay: {fd['cpu_3s']:.2f} s; health calls once they closed: {fd['health_after_close']}/20; "
              f"alive: {'yes' if fd['alive'] else 'NO'}")


if __name__ == "__main__":
    main()
