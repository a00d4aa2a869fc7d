"""A real convened for the gRPC tests: started on free loopback ports with a fresh data
directory, its administrator token read from the file it writes, stopped with SIGTERM."""
import os
import shutil
import socket
import subprocess
import tempfile
import time

import grpc
from procstat import free_port, stop_process  # scripts/, on PYTHONPATH (scripts/grpc-python-tests.sh)

CONVENED = os.environ.get("CONVENED", "convened")


def wait_for_port(port, process, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"convened exited with {process.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class ConveneServer:
    """`with ConveneServer() as server:` a running server; `server.channel()` a gRPC channel."""

    def __init__(self, *extra_args, data_dir=None):
        self.extra_args = list(extra_args)
        self.data_dir = data_dir
        self.owns_data_dir = data_dir is None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        if self.owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self):
        if self.data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="convene-grpc-")
        self.grpc_port = free_port()
        self.log = open(os.path.join(self.data_dir, "convened.log"), "ab")
        self.process = subprocess.Popen(
            [CONVENED, "--port", "0", "--grpc-port", str(self.grpc_port), "--data-dir", self.data_dir,
             "--log-level", "warning", *self.extra_args],
            stdout=self.log, stderr=self.log)
        wait_for_port(self.grpc_port, self.process)

    def stop(self):
        stop_process(self.process)
        self.log.close()

    @property
    def target(self):
        return f"127.0.0.1:{self.grpc_port}"

    def channel(self, **options):
        return grpc.insecure_channel(self.target, options=list(options.items()))

    @property
    def admin_token(self):
        with open(os.path.join(self.data_dir, "admin.token")) as f:
            return f.read().strip()


def bearer(token):
    return (("authorization", f"Bearer {token}"),)
