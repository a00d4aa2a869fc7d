"""The memory budget on the gRPC listener (PROTOCOL.md §5): what a client makes the server
hold counts, not only its bytes. A stream of tiny messages its handler does not take (the
client reads none of the answers) is refused once what keeping them costs passes the budget;
before, 45 bytes were counted for each message the server kept at about 300."""
import unittest

import grpc

from convene_server import ConveneServer
from raw_h2 import RawH2, grpc_message, request_headers

REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
# ServerReflectionRequest{list_services: ""}: 2 bytes, 7 on the wire.
LIST_SERVICES = grpc_message(b"\x3a\x00")


class MemoryBudgetTests(unittest.TestCase):
    def test_tiny_messages_never_taken_are_refused_for_what_keeping_them_costs(self):
        with ConveneServer("--max-buffered-bytes", "1M") as server:
            raw = RawH2(server.grpc_port)
            try:
                # 5,000 messages, 35,000 bytes: a thirtieth of the budget in bytes, within the
                # stream's window; the client reads nothing, so the answers soon fill its
                # window and the handler stops taking requests.
                body = LIST_SERVICES * 5000
                stream = raw.request(request_headers(REFLECTION), end_stream=False)
                for start in range(0, len(body), 16000):
                    raw.conn.send_data(stream, body[start:start + 16000])
                    raw.flush()
                response = raw.wait(stream, timeout=20)
                self.assertEqual(response.grpc_status, grpc.StatusCode.RESOURCE_EXHAUSTED.value[0])
                self.assertIn("memory budget", response.all_headers.get("grpc-message", ""))
            finally:
                raw.close()
            # The server still serves, and gave back what the call held.
            raw = RawH2(server.grpc_port)
            try:
                answer = raw.wait(raw.request(request_headers(REFLECTION), LIST_SERVICES))
                self.assertEqual(answer.grpc_status, 0)
            finally:
                raw.close()


if __name__ == "__main__":
    unittest.main()
