"""Who may call what over the gRPC listener: the benchmark service answers the administrator
(and operators) only, unless the server was started with --open-benchmark; health and
reflection answer anyone (test_health_reflection)."""
import unittest

import grpc
from convene.benchmark.v1 import benchmark_pb2, benchmark_pb2_grpc

from convene_server import ConveneServer, bearer


class AccessTests(unittest.TestCase):
    def test_the_benchmark_needs_a_credential_that_grants_it(self):
        with ConveneServer() as server, server.channel() as channel:
            bench = benchmark_pb2_grpc.BenchmarkStub(channel)
            request = benchmark_pb2.EchoRequest(payload=b"x")
            with self.assertRaises(grpc.RpcError) as anonymous:
                bench.UnaryEcho(request, timeout=10)
            self.assertEqual(anonymous.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            with self.assertRaises(grpc.RpcError) as wrong:
                bench.UnaryEcho(request, metadata=bearer("not-a-token"), timeout=10)
            self.assertEqual(wrong.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            with self.assertRaises(grpc.RpcError) as streaming:
                list(bench.StreamFromServer(benchmark_pb2.StreamRequest(count=2, size=3), timeout=10))
            self.assertEqual(streaming.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            admin = bearer(server.admin_token)
            for _ in range(3):  # looked up once, then decided inline
                self.assertEqual(bench.UnaryEcho(request, metadata=admin, timeout=10).payload, b"x")
            streamed = list(bench.StreamFromServer(benchmark_pb2.StreamRequest(count=2, size=3), metadata=admin, timeout=10))
            self.assertEqual([r.payload for r in streamed], [b"CCC", b"CCC"])

    def test_open_benchmark_lets_anyone_call(self):
        with ConveneServer("--open-benchmark") as server, server.channel() as channel:
            bench = benchmark_pb2_grpc.BenchmarkStub(channel)
            self.assertEqual(bench.UnaryEcho(benchmark_pb2.EchoRequest(payload=b"y"), timeout=10).payload, b"y")


if __name__ == "__main__":
    unittest.main()
