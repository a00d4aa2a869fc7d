"""What a gRPC server gives for bad input on the HTTP/2 side, sent as raw frames; after each
case the server still answers a health check on another connection."""
import struct
import threading
import time
import unittest
import zlib

import grpc
import h2.settings
import hyperframe.frame
from grpc_health.v1 import health_pb2, health_pb2_grpc

from convene_interop.grpc.testing import messages_pb2
from convene_server import ConveneServer
from raw_h2 import RawH2, grpc_message, request_headers

UNARY = "/grpc.testing.TestService/UnaryCall"
OUTPUT = "/grpc.testing.TestService/StreamingOutputCall"
FULL_DUPLEX = "/grpc.testing.TestService/FullDuplexCall"


class BadInputTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ConveneServer("--enable-interop").__enter__()
        cls.channel = cls.server.channel()
        cls.health = health_pb2_grpc.HealthStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        cls.channel.close()
        cls.server.__exit__(None, None, None)

    def setUp(self):
        self.raw = RawH2(self.server.grpc_port)

    def tearDown(self):
        self.raw.close()
        status = self.health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
        self.assertEqual(status, health_pb2.HealthCheckResponse.SERVING, "the server still serves")
        self.assertIsNone(self.server.process.poll(), "convened is alive")

    def unary(self, **fields):
        return grpc_message(messages_pb2.SimpleRequest(**fields).SerializeToString())

    def test_unknown_content_type_gets_415(self):
        response = self.raw.wait(self.raw.request(request_headers(UNARY, content_type="application/json"), self.unary()))
        self.assertEqual(dict(response.headers)[":status"], "415")
        self.assertEqual(response.grpc_status, grpc.StatusCode.INTERNAL.value[0])
        self.assertIn("content-type", response.all_headers.get("grpc-message", ""))

    def test_missing_te_trailers_is_refused(self):
        response = self.raw.wait(self.raw.request(request_headers(UNARY, te=False), self.unary()))
        self.assertEqual(dict(response.headers)[":status"], "400")
        self.assertIn("te", response.all_headers.get("grpc-message", ""))

    def test_malformed_header_blocks_are_stream_errors(self):
        for extra in ([("X-Upper", "a")], [("connection", "close")], [("te", "gzip")]):
            stream = self.raw.request(request_headers(UNARY, te=False, extra=extra) if extra[0][0] == "te"
                                      else request_headers(UNARY, extra=extra), self.unary())
            response = self.raw.wait(stream)
            self.assertEqual(response.reset, 1, f"{extra}: RST_STREAM PROTOCOL_ERROR")

    def test_a_stream_error_ends_that_stream_only(self):
        """A malformed header block is a stream error (RFC 9113 8.2.1): the stream is reset,
        and the connection's other calls go on."""
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=7, interval_us=500_000)])
        running = self.raw.request(request_headers(OUTPUT), grpc_message(request.SerializeToString()))
        for extra in ([("X-Upper", "a")], [("connection", "close")]):
            broken = self.raw.request(request_headers(UNARY, extra=extra), self.unary())
            self.assertEqual(self.raw.wait(broken).reset, 1, f"{extra}: RST_STREAM PROTOCOL_ERROR")
        # DATA on a stream the client has ended (RFC 9113 5.1): swift-nio-http2's stream error.
        ended = self.raw.request(request_headers(OUTPUT), grpc_message(request.SerializeToString()))
        late = hyperframe.frame.DataFrame(ended)
        late.data = grpc_message(b"")
        self.raw.sock.sendall(late.serialize())
        self.assertEqual(self.raw.wait(ended).reset, 5, "RST_STREAM STREAM_CLOSED")
        response = self.raw.wait(running)
        self.assertFalse(self.raw.closed, "the connection stays open")
        self.assertIsNone(self.raw.goaway)
        self.assertEqual(response.grpc_status, 0)
        reply = messages_pb2.StreamingOutputCallResponse.FromString(response.data[5:])
        self.assertEqual(len(reply.payload.body), 7, "its one message")
        after = self.raw.wait(self.raw.request(request_headers(UNARY), self.unary()))
        self.assertEqual(after.grpc_status, 0, "and new calls are served")

    def test_invalid_grpc_timeout(self):
        for value in ["", "1", "123456789S", "10x", "-1S", "1.5S"]:
            stream = self.raw.request(request_headers(UNARY, extra=[("grpc-timeout", value)]), self.unary())
            response = self.raw.wait(stream)
            self.assertEqual(response.grpc_status, grpc.StatusCode.INTERNAL.value[0], value)
            self.assertIn("grpc-timeout", response.all_headers.get("grpc-message", ""), value)

    def test_a_compressed_message_without_an_encoding_is_refused_naming_why(self):
        for extra in ([("grpc-encoding", "identity")], []):
            stream = self.raw.request(request_headers(UNARY, extra=extra), grpc_message(self.unary(response_size=1)[5:], compressed=True))
            response = self.raw.wait(stream)
            self.assertEqual(response.grpc_status, grpc.StatusCode.INTERNAL.value[0], extra)
            self.assertIn("grpc-encoding is identity (or absent)", response.all_headers.get("grpc-message", ""), extra)

    def test_zero_grpc_timeout_is_a_deadline_already_past(self):
        for value in ["0n", "0S"]:
            stream = self.raw.request(request_headers(UNARY, extra=[("grpc-timeout", value)]), self.unary())
            response = self.raw.wait(stream)
            self.assertEqual(response.grpc_status, grpc.StatusCode.DEADLINE_EXCEEDED.value[0], value)
            self.assertIn(f"grpc-timeout '{value}'", response.all_headers.get("grpc-message", ""), value)
        self.assertFalse(self.raw.closed, "a stream's answer, not the connection's end")

    def test_extreme_grpc_timeout_is_accepted(self):
        stream = self.raw.request(request_headers(UNARY, extra=[("grpc-timeout", "99999999H")]), self.unary())
        self.assertEqual(self.raw.wait(stream).grpc_status, 0)

    def test_oversized_message_is_refused_from_its_prefix(self):
        prefix = b"\x00" + (64 * 1024 * 1024).to_bytes(4, "big")
        response = self.raw.wait(self.raw.request(request_headers(UNARY), prefix + b"\x00" * 1000, end_stream=False))
        self.assertEqual(response.grpc_status, grpc.StatusCode.RESOURCE_EXHAUSTED.value[0])
        self.assertIn("4194304", response.all_headers.get("grpc-message", ""))

    def test_compressed_flag_without_encoding_is_refused(self):
        body = grpc_message(messages_pb2.SimpleRequest().SerializeToString(), compressed=True)
        response = self.raw.wait(self.raw.request(request_headers(UNARY), body))
        self.assertEqual(response.grpc_status, grpc.StatusCode.INTERNAL.value[0])

    def test_unsupported_encoding_is_unimplemented_with_the_accepted_list(self):
        response = self.raw.wait(self.raw.request(request_headers(UNARY, extra=[("grpc-encoding", "snappy")]), self.unary()))
        self.assertEqual(response.grpc_status, grpc.StatusCode.UNIMPLEMENTED.value[0])
        self.assertIn("gzip", response.all_headers.get("grpc-accept-encoding", ""))

    def test_response_compression_is_visible_on_the_wire(self):
        for compressed, flag in [(True, 1), (False, 0)]:
            body = self.unary(response_size=10000, response_compressed=messages_pb2.BoolValue(value=compressed))
            stream = self.raw.request(request_headers(UNARY, extra=[("grpc-accept-encoding", "gzip")]), body)
            response = self.raw.wait(stream)
            self.assertEqual(response.grpc_status, 0)
            self.assertEqual(response.data[0], flag, f"response_compressed={compressed}")
            if compressed:
                self.assertEqual(dict(response.headers).get("grpc-encoding"), "gzip")
                self.assertLess(len(response.data), 10000)

    def test_the_server_itself_ends_a_call_at_its_deadline(self):
        # A response 5 s away, a 200 ms timeout, and a client that never cancels.
        request = messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=1, interval_us=5_000_000)])
        started = time.monotonic()
        stream = self.raw.request(request_headers(OUTPUT, extra=[("grpc-timeout", "200m")]),
                                  grpc_message(request.SerializeToString()))
        response = self.raw.wait(stream, timeout=10)
        self.assertEqual(response.grpc_status, grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
        self.assertLess(time.monotonic() - started, 4.5, "ended by the deadline, not by the response")

    def test_too_many_streams_are_refused(self):
        self.raw.pump(lambda: self.raw.conn.remote_settings.max_concurrent_streams < 1000, timeout=5)
        limit = self.raw.conn.remote_settings.max_concurrent_streams
        # Pretend the server allowed more, and open more than it did.
        self.raw.conn.remote_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: limit + 20})
        streams = [self.raw.request(request_headers(FULL_DUPLEX), end_stream=False) for _ in range(limit + 10)]
        self.raw.pump(lambda: any(self.raw.responses[s].reset is not None for s in streams), timeout=10)
        refused = [s for s in streams if self.raw.responses[s].reset is not None]
        self.assertTrue(refused or self.raw.goaway, "streams beyond MAX_CONCURRENT_STREAMS are refused")

    def test_oversized_header_block_is_refused(self):
        headers = request_headers(UNARY, extra=[(f"x-pad-{i}", "v" * 100) for i in range(400)])
        stream = self.raw.request(headers, self.unary())
        self.raw.pump(lambda: self.raw.responses[stream].ended or self.raw.responses[stream].reset is not None, 10)
        response = self.raw.responses[stream]
        self.assertTrue(self.raw.closed or response.reset is not None or response.grpc_status not in (None, 0))

    def test_hpack_bomb_is_refused(self):
        # One 4 KB header added to the dynamic table, then referenced thousands of times:
        # a small block on the wire that would decode to megabytes.
        headers = request_headers(UNARY, extra=[("x-bomb", "A" * 4000)] * 2000)
        stream = self.raw.request(headers, self.unary())
        self.raw.pump(lambda: self.raw.responses[stream].ended or self.raw.responses[stream].reset is not None, 10)
        response = self.raw.responses[stream]
        self.assertTrue(self.raw.closed or response.reset is not None or response.grpc_status not in (None, 0))

    def test_calls_ended_at_tiny_deadlines_are_a_flood_longer_deadlines_are_not(self):
        """Rapid reset without the RST_STREAMs: calls with a 1 µs grpc-timeout, each ended by
        the server at its deadline. Past 200 the connection gets GOAWAY ENHANCE_YOUR_CALM;
        calls ended at a 150 ms deadline are not counted."""
        def calls(raw, count, timeout):
            streams = [raw.request(request_headers(FULL_DUPLEX, extra=[("grpc-timeout", timeout)]), end_stream=False)
                       for _ in range(count)]
            raw.pump(lambda: all(raw.responses[s].ended or raw.responses[s].reset is not None for s in streams), timeout=10)
            return streams

        for _ in range(3):
            streams = calls(self.raw, 90, "150m")
            self.assertFalse(self.raw.closed, "deadlines of 150 ms are not a flood")
            for stream in streams:
                self.assertEqual(self.raw.responses[stream].grpc_status, grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
        churner = RawH2(self.server.grpc_port)
        try:
            for _ in range(4):
                if churner.closed:
                    break
                try:
                    calls(churner, 90, "1u")
                except OSError:  # the server may close the connection mid-write
                    break
            churner.pump(lambda: False, timeout=2)
            self.assertIsNotNone(churner.goaway, "the 201st call ended at a 1 µs deadline is refused")
            self.assertEqual(churner.goaway.error_code, 11, "ENHANCE_YOUR_CALM")
            self.assertIn(b"too many calls cut short", churner.goaway.additional_data or b"")
        finally:
            churner.close()

    def test_compressed_requests_are_inflated_at_a_pace(self):
        """Deflate bombs (4 KiB each, 4 MiB inflated, refused at the ratio limit after
        inflating): a connection inflates a burst of 16 MiB, then 64 MiB/s; its frames wait
        meanwhile, and the server answers others."""
        bomb = zlib.compress(b"\0" * (4 * 1024 * 1024 - 64), 9)
        message = struct.pack(">BI", 1, len(bomb)) + bomb
        started = time.monotonic()
        streams = [self.raw.request(request_headers(UNARY, extra=[("grpc-encoding", "deflate")]), message)
                   for _ in range(12)]
        status = self.health.Check(health_pb2.HealthCheckRequest(), timeout=10).status
        self.assertEqual(status, health_pb2.HealthCheckResponse.SERVING)
        self.raw.pump(lambda: all(self.raw.responses[s].ended or self.raw.responses[s].reset is not None for s in streams),
                      timeout=30)
        for stream in streams:
            self.assertEqual(self.raw.responses[stream].grpc_status, grpc.StatusCode.RESOURCE_EXHAUSTED.value[0])
        # 48 MiB inflated: 16 MiB at once, then 32 MiB at 64 MiB/s (at least half a second).
        self.assertGreaterEqual(time.monotonic() - started, 0.45)

    def test_rapid_reset_flood_does_not_starve_others(self):
        """CVE-2023-44487: streams opened and reset at full speed, bounded in count and time,
        while a prober on another connection keeps calling."""
        latencies, failures, stop = [], [], threading.Event()

        def probe():
            channel = self.server.channel()
            health = health_pb2_grpc.HealthStub(channel)
            while not stop.is_set():
                started = time.monotonic()
                try:
                    health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    latencies.append(time.monotonic() - started)
                except grpc.RpcError as error:
                    failures.append(error.code())
                time.sleep(0.01)
            channel.close()

        prober = threading.Thread(target=probe)
        prober.start()
        sent, deadline = 0, time.time() + 10
        try:
            while sent < 20000 and time.time() < deadline and not self.raw.closed:
                stream = self.raw.conn.get_next_available_stream_id()
                self.raw.conn.send_headers(stream, request_headers(FULL_DUPLEX))
                self.raw.conn.reset_stream(stream)
                sent += 1
                if sent % 100 == 0:
                    self.raw.flush()
                    self.raw.pump(lambda: False, timeout=0.001)
        except (OSError, Exception):  # the server may close the connection mid-write
            pass
        self.raw.pump(lambda: False, timeout=1)
        stop.set()
        prober.join()
        print(f"\n    rapid reset: {sent} streams opened and reset; GOAWAY {self.raw.goaway}; "
              f"{len(latencies)} probes, slowest {max(latencies, default=0) * 1000:.1f} ms", flush=True)
        self.assertEqual(failures, [])
        self.assertGreater(len(latencies), 0)
        if self.raw.goaway is not None:
            self.assertEqual(self.raw.goaway.error_code, 11, "ENHANCE_YOUR_CALM")  # a flood, told so


if __name__ == "__main__":
    unittest.main()
