"""The gRPC listener's inbound flow control against clients that send the way HTTP/2 lets
them: parts of many large messages at once, in whatever order the windows allow. Every call
completes; none waits for the message timeout. Sent as raw frames, so the interleaving is
the test's, not a library's."""
import time
import unittest

from convene_interop.grpc.testing import messages_pb2
from convene_server import ConveneServer
from raw_h2 import RawH2, Response, grpc_message, request_headers

UNARY = "/grpc.testing.TestService/UnaryCall"
STREAMING_INPUT = "/grpc.testing.TestService/StreamingInputCall"


class FlowControlTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer("--enable-interop").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.raw = RawH2(self.server.grpc_port, timeout=30)

    def tearDown(self):
        self.raw.close()
        self.assertIsNone(self.server.process.poll(), "convened is alive")

    def open_calls(self, path, bodies):
        """Opens one call per body (headers only); answers {stream id: remaining bytes}."""
        pending = {}
        for body in bodies:
            stream = self.raw.conn.get_next_available_stream_id()
            self.raw.responses[stream] = Response()
            self.raw.conn.send_headers(stream, request_headers(path), end_stream=False)
            pending[stream] = memoryview(body)
        self.raw.flush()
        return pending

    def send_round_robin(self, pending, piece=16384, seconds=20):
        """Sends every call's body a piece at a time, one call after the other, as far as the
        windows allow; reads the server's WINDOW_UPDATEs whenever nothing can be sent."""
        deadline = time.time() + seconds
        while pending and time.time() < deadline:
            sent = False
            for stream in list(pending):
                body = pending[stream]
                size = min(piece, len(body), self.raw.conn.local_flow_control_window(stream))
                if size <= 0:
                    continue
                last = size == len(body)
                self.raw.conn.send_data(stream, body[:size].tobytes(), end_stream=last)
                sent = True
                if last:
                    del pending[stream]
                else:
                    pending[stream] = body[size:]
            self.raw.flush()
            self.raw.pump(lambda: False, timeout=0.001 if sent else 0.05)
        return not pending

    def test_parts_of_many_large_messages_at_once_all_complete(self):
        # 60 calls of 300 kB each (18 MB in all, more than any window of the server), sent
        # 16 kB at a time round the calls: no message is whole before every call has begun.
        request = messages_pb2.SimpleRequest(response_size=8, payload=messages_pb2.Payload(body=bytes(300_000)))
        message = grpc_message(request.SerializeToString())
        pending = self.open_calls(UNARY, [message] * 60)
        streams = list(pending)
        started = time.time()
        self.assertTrue(self.send_round_robin(pending), "every request was sent within 20 s")
        self.raw.pump(lambda: all(self.raw.responses[s].ended for s in streams), timeout=20)
        statuses = [self.raw.responses[s].grpc_status for s in streams]
        self.assertEqual(statuses, [0] * 60)
        self.assertLess(time.time() - started, 25, "no call waited for the message timeout")

    def test_streamed_messages_larger_than_the_window_interleaved(self):
        # Client streaming: 40 calls of four 250 kB messages each, interleaved the same way.
        request = messages_pb2.StreamingInputCallRequest(payload=messages_pb2.Payload(body=bytes(250_000)))
        body = grpc_message(request.SerializeToString()) * 4
        pending = self.open_calls(STREAMING_INPUT, [body] * 40)
        streams = list(pending)
        self.assertTrue(self.send_round_robin(pending), "every request was sent within 20 s")
        self.raw.pump(lambda: all(self.raw.responses[s].ended for s in streams), timeout=20)
        self.assertEqual([self.raw.responses[s].grpc_status for s in streams], [0] * 40)
        for stream in streams:
            response = messages_pb2.StreamingInputCallResponse.FromString(self.raw.responses[stream].data[5:])
            self.assertEqual(response.aggregated_payload_size, 1_000_000)


if __name__ == "__main__":
    unittest.main()
