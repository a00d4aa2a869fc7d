"""The operators' endpoint of a real convened: Prometheus metrics of gRPC calls, and the status
page rendered by a real browser (headless Chromium from Debian's packages)."""
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.request

import grpc

from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from convene.benchmark.v1 import benchmark_pb2, benchmark_pb2_grpc
from convene_server import CONVENED as CONVENED_BINARY, ConveneServer, bearer, free_port


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get("content-type", ""), response.read().decode()


def chromium(*args):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise AssertionError("chromium is not installed (make test installs it)")
    return subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", *args],
                          capture_output=True, text=True, timeout=120)


class StatusPageTests(unittest.TestCase):
    def test_calls_refused_as_they_open_are_counted(self):
        """A call with no credential for a service that needs one, and a call of a path nobody
        serves, never reach a handler; the metrics count them all the same."""
        metrics_port = free_port()
        with ConveneServer("--metrics-port", str(metrics_port)) as server:
            channel = server.channel()
            echo = benchmark_pb2_grpc.BenchmarkStub(channel)
            for _ in range(3):
                with self.assertRaises(grpc.RpcError) as caught:
                    echo.UnaryEcho(benchmark_pb2.EchoRequest(payload=b"x"), timeout=5)
                self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            unknown = channel.unary_unary("/no.such.Service/Nothing")
            with self.assertRaises(grpc.RpcError) as caught:
                unknown(b"", timeout=5)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNIMPLEMENTED)
            channel.close()
            _, metrics = fetch(f"http://127.0.0.1:{metrics_port}/metrics")
            self.assertRegex(metrics, r'convene_calls_total\{service="convene.benchmark.v1.Benchmark",method="UnaryEcho",'
                                      r'transport="grpc",code="UNAUTHENTICATED"\} 3\b')
            self.assertRegex(metrics, r'convene_unknown_method_calls_total\{transport="grpc"\} 1\b')

    def test_metrics_and_the_page_under_load(self):
        metrics_port = free_port()
        with ConveneServer("--metrics-port", str(metrics_port), "--status-sample-seconds", "0.5") as server:
            stop = threading.Event()

            admin = bearer(server.admin_token)  # the benchmark service needs a credential

            def load():
                channel = server.channel()
                health = health_pb2_grpc.HealthStub(channel)
                echo = benchmark_pb2_grpc.BenchmarkStub(channel)
                while not stop.is_set():
                    health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    echo.UnaryEcho(benchmark_pb2.EchoRequest(payload=b"x" * 64), timeout=5, metadata=admin)
                channel.close()

            worker = threading.Thread(target=load)
            worker.start()
            try:
                time.sleep(2.5)  # several samples with calls in them
                base = f"http://127.0.0.1:{metrics_port}"
                content_type, metrics = fetch(base + "/metrics")
                self.assertTrue(content_type.startswith("text/plain; version=0.0.4"))
                calls = re.search(r'convene_calls_total\{service="grpc.health.v1.Health",method="Check",'
                                  r'transport="grpc",code="OK"\} (\d+)', metrics)
                self.assertIsNotNone(calls, "gRPC health checks are counted")
                self.assertGreater(int(calls.group(1)), 10)
                self.assertRegex(metrics, r'convene_connections\{transport="grpc"\} 1')
                self.assertRegex(metrics, r'convene_bytes_total\{transport="grpc",direction="in"\} [1-9]')
                self.assertRegex(metrics, r'convene_call_duration_seconds_bucket\{service="convene.benchmark.v1.Benchmark",'
                                          r'method="UnaryEcho",le="[0-9.e+-]+"\} [1-9]')
                self.check_with_prometheus_parser(metrics)

                rendered = chromium("--dump-dom", base + "/")
                dom = rendered.stdout
                self.assertIn("<h1>Convene", dom, rendered.stderr[-500:])
                for text in ["Listeners", "Busiest methods", "grpc.health.v1.Health/Check",
                             "convene.benchmark.v1.Benchmark/UnaryEcho", "groups-of-friends", "serving", "<polyline"]:
                    self.assertIn(text, dom)
                rate = re.search(r"grpc.health.v1.Health/Check</td><td class=\"n\">([0-9.]+)</td>", dom)
                self.assertIsNotNone(rate)
                self.assertGreater(float(rate.group(1)), 0, "calls per second over the last interval")

                with tempfile.TemporaryDirectory() as folder:
                    png = os.path.join(folder, "status.png")
                    shot = chromium(f"--screenshot={png}", "--window-size=1000,900", base + "/")
                    self.assertTrue(os.path.exists(png), shot.stderr[-500:])
                    with open(png, "rb") as f:
                        image = f.read()
                    self.assertEqual(image[:8], b"\x89PNG\r\n\x1a\n")
                    self.assertGreater(len(image), 10_000, "a page, not a blank")
            finally:
                stop.set()
                worker.join()

    def check_with_prometheus_parser(self, text):
        """The whole exposition parses with the Prometheus project's parser; each family is
        declared once, and every call histogram is well formed (cumulative buckets, the +Inf
        bucket equal to the count)."""
        families = list(text_string_to_metric_families(text))
        names = [family.name for family in families]
        self.assertEqual(len(names), len(set(names)), "each metric family is declared once")
        by_name = {family.name: family for family in families}
        self.assertEqual(by_name["convene_calls"].type, "counter")
        histogram = by_name["convene_call_duration_seconds"]
        self.assertEqual(histogram.type, "histogram")
        series = {}
        for sample in histogram.samples:
            key = (sample.labels["service"], sample.labels["method"])
            series.setdefault(key, []).append(sample)
        self.assertIn(("convene.benchmark.v1.Benchmark", "UnaryEcho"), series)
        for key, samples in series.items():
            buckets = [s.value for s in samples if s.name.endswith("_bucket")]
            count = [s.value for s in samples if s.name.endswith("_count")]
            self.assertEqual(buckets, sorted(buckets), f"{key}: buckets are cumulative")
            self.assertEqual(buckets[-1], count[0], f"{key}: the +Inf bucket is the count")



def listening_addresses(port):
    """The local IPv4 addresses with a socket listening on `port` (from /proc/net/tcp)."""
    found = set()
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            local, state = line.split()[1], line.split()[3]
            address, local_port = local.split(":")
            if state == "0A" and int(local_port, 16) == port:
                found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return found


class OperatorsEndpointAddressTests(unittest.TestCase):
    def test_the_endpoint_listens_on_the_loopback_address_unless_told_otherwise(self):
        """The endpoint has no credential: a server whose listeners take every address
        (`--host 127.0.0.2` here stands for a public one) keeps it on 127.0.0.1, and moves it
        only where `--metrics-host` says."""
        for extra, expected in [((), "127.0.0.1"), (("--metrics-host", "127.0.0.3"), "127.0.0.3")]:
            port, metrics_port = free_port(), free_port()
            data = tempfile.mkdtemp(prefix="convene-metrics-host-")
            process = subprocess.Popen(
                [CONVENED_BINARY, "--host", "127.0.0.2", "--port", str(port), "--grpc-port", "0", "--data-dir", data,
                 "--log-level", "warning", "--metrics-port", str(metrics_port), *extra],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                deadline = time.time() + 60
                while time.time() < deadline and not (listening_addresses(port) and listening_addresses(metrics_port)):
                    self.assertIsNone(process.poll(), "convened exited")
                    time.sleep(0.05)
                self.assertEqual(listening_addresses(port), {"127.0.0.2"})
                self.assertEqual(listening_addresses(metrics_port), {expected})
                _, page = fetch(f"http://{expected}:{metrics_port}/metrics")
                self.assertIn("convene_calls_total", page)
            finally:
                process.terminate()
                process.wait(timeout=30)
                shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
