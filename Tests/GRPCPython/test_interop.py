"""gRPC's interop cases, run by grpcio against Convene's gRPC listener and the
grpc.testing.TestService it serves with --enable-interop."""
import threading
import time
import unittest

import grpc

from convene_interop.grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc
from convene_server import ConveneServer

ZEROS_271828 = bytes(271828)


class InteropTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer("--enable-interop").__enter__()
        cls.channel = cls.server.channel()
        cls.stub = test_pb2_grpc.TestServiceStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.__exit__(None, None, None)

    def large_request(self, **fields):
        return messages_pb2.SimpleRequest(response_size=314159, payload=messages_pb2.Payload(body=ZEROS_271828), **fields)

    def test_empty_unary(self):
        self.assertEqual(self.stub.EmptyCall(empty_pb2.Empty(), timeout=10), empty_pb2.Empty())

    def test_large_unary(self):
        response = self.stub.UnaryCall(self.large_request(), timeout=10)
        self.assertEqual(len(response.payload.body), 314159)
        self.assertEqual(response.payload.body, bytes(314159))

    def test_client_compressed_unary(self):
        probe = self.large_request(expect_compressed=messages_pb2.BoolValue(value=True))
        with self.assertRaises(grpc.RpcError) as refused:
            self.stub.UnaryCall(probe, timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        for algorithm in (grpc.Compression.Gzip, grpc.Compression.Deflate):
            response = self.stub.UnaryCall(probe, timeout=10, compression=algorithm)
            self.assertEqual(len(response.payload.body), 314159)
        plain = self.large_request(expect_compressed=messages_pb2.BoolValue(value=False))
        self.assertEqual(len(self.stub.UnaryCall(plain, timeout=10).payload.body), 314159)

    def test_server_compressed_unary(self):
        # grpcio exposes no message flags; the wire-level check is in test_bad_input.py.
        for compressed in (True, False):
            request = self.large_request(response_compressed=messages_pb2.BoolValue(value=compressed))
            channel = self.server.channel()
            stub = test_pb2_grpc.TestServiceStub(channel)
            self.assertEqual(len(stub.UnaryCall(request, timeout=10).payload.body), 314159)
            channel.close()

    def test_client_streaming(self):
        sizes = [27182, 8, 1828, 45904]
        requests = (messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=bytes(n))) for n in sizes)
        self.assertEqual(self.stub.StreamingInputCall(requests, timeout=10).aggregated_payload_size, 74922)

    def test_client_compressed_streaming(self):
        requests = [messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=bytes(n))) for n in (27182, 45904)]
        response = self.stub.StreamingInputCall(iter(requests), timeout=10, compression=grpc.Compression.Gzip)
        self.assertEqual(response.aggregated_payload_size, 73086)

    def test_server_streaming(self):
        sizes = [31415, 9, 2653, 58979]
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=n) for n in sizes])
        self.assertEqual([len(r.payload.body) for r in self.stub.StreamingOutputCall(request, timeout=10)], sizes)

    def test_server_compressed_streaming(self):
        request = messages_pb2.StreamingOutputCallRequest(response_parameters=[
            messages_pb2.ResponseParameters(size=31415, compressed=messages_pb2.BoolValue(value=True)),
            messages_pb2.ResponseParameters(size=92653, compressed=messages_pb2.BoolValue(value=False))])
        responses = self.stub.StreamingOutputCall(request, timeout=10, compression=grpc.Compression.Gzip)
        self.assertEqual([len(r.payload.body) for r in responses], [31415, 92653])

    def test_ping_pong(self):
        pairs = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)]
        outbox = []
        ready = threading.Semaphore(0)

        def requests():
            for size, body in pairs:
                yield messages_pb2.StreamingOutputCallRequest(
                    response_parameters=[messages_pb2.ResponseParameters(size=size)],
                    payload=messages_pb2.Payload(body=bytes(body)))
                ready.acquire(timeout=10)  # the next request only after the reply

        for response in self.stub.FullDuplexCall(requests(), timeout=10):
            outbox.append(len(response.payload.body))
            ready.release()
        self.assertEqual(outbox, [size for size, _ in pairs])

    def test_empty_stream(self):
        self.assertEqual(list(self.stub.FullDuplexCall(iter([]), timeout=10)), [])

    def test_custom_metadata(self):
        metadata = (("x-grpc-test-echo-initial", "test_initial_metadata_value"),
                    ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))
        _, call = self.stub.UnaryCall.with_call(self.large_request(), metadata=metadata, timeout=10)
        self.assertIn(("x-grpc-test-echo-initial", "test_initial_metadata_value"), call.initial_metadata())
        self.assertIn(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"), call.trailing_metadata())
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=314159)],
            payload=messages_pb2.Payload(body=ZEROS_271828))
        call = self.stub.FullDuplexCall(iter([request]), metadata=metadata, timeout=10)
        self.assertEqual([len(r.payload.body) for r in call], [314159])
        self.assertIn(("x-grpc-test-echo-initial", "test_initial_metadata_value"), call.initial_metadata())
        self.assertIn(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"), call.trailing_metadata())

    def test_binary_initial_and_ascii_trailing_metadata_are_echoed(self):
        metadata = (("x-grpc-test-echo-initial", "plain"), ("x-grpc-test-echo-trailing-bin", bytes(range(256))),
                    ("x-grpc-test-echo-initial-bin", b"\x00\xff"), ("x-grpc-test-echo-trailing", "ascii trailer"))
        _, call = self.stub.UnaryCall.with_call(messages_pb2.SimpleRequest(), metadata=metadata, timeout=10)
        self.assertIn(("x-grpc-test-echo-trailing-bin", bytes(range(256))), call.trailing_metadata())
        self.assertIn(("x-grpc-test-echo-initial-bin", b"\x00\xff"), call.initial_metadata())
        self.assertIn(("x-grpc-test-echo-trailing", "ascii trailer"), call.trailing_metadata())
        request = messages_pb2.StreamingOutputCallRequest(response_parameters=[messages_pb2.ResponseParameters(size=3)])
        call = self.stub.FullDuplexCall(iter([request]), metadata=metadata, timeout=10)
        self.assertEqual([len(r.payload.body) for r in call], [3])
        self.assertIn(("x-grpc-test-echo-initial-bin", b"\x00\xff"), call.initial_metadata())
        self.assertIn(("x-grpc-test-echo-trailing", "ascii trailer"), call.trailing_metadata())

    def test_status_code_and_message(self):
        message = "test status message"
        status = messages_pb2.EchoStatus(code=2, message=message)
        with self.assertRaises(grpc.RpcError) as unary:
            self.stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=10)
        self.assertEqual((unary.exception.code(), unary.exception.details()), (grpc.StatusCode.UNKNOWN, message))
        with self.assertRaises(grpc.RpcError) as duplex:
            list(self.stub.FullDuplexCall(iter([messages_pb2.StreamingOutputCallRequest(response_status=status)]), timeout=10))
        self.assertEqual((duplex.exception.code(), duplex.exception.details()), (grpc.StatusCode.UNKNOWN, message))

    def test_special_status_message(self):
        message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"
        status = messages_pb2.EchoStatus(code=2, message=message)
        with self.assertRaises(grpc.RpcError) as unary:
            self.stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=10)
        self.assertEqual((unary.exception.code(), unary.exception.details()), (grpc.StatusCode.UNKNOWN, message))

    def test_unimplemented_method(self):
        call = self.channel.unary_unary("/grpc.testing.TestService/UnimplementedCall",
                                        request_serializer=empty_pb2.Empty.SerializeToString,
                                        response_deserializer=empty_pb2.Empty.FromString)
        with self.assertRaises(grpc.RpcError) as refused:
            call(empty_pb2.Empty(), timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_unimplemented_service(self):
        stub = test_pb2_grpc.UnimplementedServiceStub(self.channel)
        with self.assertRaises(grpc.RpcError) as refused:
            stub.UnimplementedCall(empty_pb2.Empty(), timeout=10)
        self.assertEqual(refused.exception.code(), grpc.StatusCode.UNIMPLEMENTED)

    def test_cancel_after_begin(self):
        future = self.stub.StreamingInputCall.future(iter(lambda: time.sleep(5), 1), timeout=10)
        future.cancel()
        with self.assertRaises(grpc.FutureCancelledError):
            future.result()

    def test_cancel_after_first_response(self):
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=31415)],
            payload=messages_pb2.Payload(body=bytes(27182)))
        blocker = threading.Event()

        def requests():
            yield request
            blocker.wait(10)

        call = self.stub.FullDuplexCall(requests(), timeout=10)
        self.assertEqual(len(next(call).payload.body), 31415)
        call.cancel()
        blocker.set()
        with self.assertRaises(grpc.RpcError) as cancelled:
            next(call)
        self.assertEqual(cancelled.exception.code(), grpc.StatusCode.CANCELLED)

    def test_timeout_on_sleeping_server(self):
        blocker = threading.Event()

        def requests():
            yield messages_pb2.StreamingOutputCallRequest(payload=messages_pb2.Payload(body=bytes(27182)))
            blocker.wait(10)

        call = self.stub.FullDuplexCall(requests(), timeout=0.001)
        with self.assertRaises(grpc.RpcError) as expired:
            list(call)
        blocker.set()
        self.assertEqual(expired.exception.code(), grpc.StatusCode.DEADLINE_EXCEEDED)

    def test_concurrent_large_unary(self):
        futures = [self.stub.UnaryCall.future(self.large_request(), timeout=120) for _ in range(1000)]
        sizes = [len(f.result().payload.body) for f in futures]
        self.assertEqual(sizes, [314159] * 1000)


if __name__ == "__main__":
    unittest.main()
