"""A bare HTTP/2 client (the h2 library over a socket) for requests no gRPC library
would send: wrong headers, raw message prefixes, resets, floods."""
import socket
import struct
import time

import h2.config
import h2.connection
import h2.events


def grpc_message(payload, compressed=False):
    return struct.pack(">BI", 1 if compressed else 0, len(payload)) + payload


def request_headers(path, content_type="application/grpc", te=True, extra=()):
    headers = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
               ("content-type", content_type)]
    if te:
        headers.append(("te", "trailers"))
    return headers + list(extra)


class Response:
    def __init__(self):
        self.headers = []
        self.trailers = []
        self.data = b""
        self.reset = None
        self.ended = False

    @property
    def all_headers(self):
        return dict(self.headers + self.trailers)

    @property
    def grpc_status(self):
        value = self.all_headers.get("grpc-status")
        return int(value) if value is not None else None


class RawH2:
    def __init__(self, port, timeout=10):
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=False, normalize_outbound_headers=False,
                                           validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        self.flush()
        self.responses = {}
        self.goaway = None
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            # `pump` shortens the socket's timeout to what is left of its wait; a send gets
            # the connection's own, or a server slow to read for a moment would fail it.
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)

    def request(self, headers, body=b"", end_stream=True):
        stream = self.conn.get_next_available_stream_id()
        self.responses[stream] = Response()
        self.conn.send_headers(stream, headers, end_stream=end_stream and not body)
        if body:
            self.conn.send_data(stream, body, end_stream=end_stream)
        self.flush()
        return stream

    def pump(self, until, timeout=10):
        """Reads and handles frames until `until()` is true, the connection closes or time runs out."""
        deadline = time.time() + timeout
        while not until() and not self.closed and time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            for event in self.conn.receive_data(data):
                self.handle(event)
            self.flush()
        return until()

    def handle(self, event):
        response = self.responses.get(getattr(event, "stream_id", None))
        if isinstance(event, h2.events.ResponseReceived):
            response.headers = [(k, v) for k, v in event.headers]
        elif isinstance(event, h2.events.TrailersReceived):
            response.trailers = [(k, v) for k, v in event.headers]
        elif isinstance(event, h2.events.DataReceived):
            response.data += event.data
            self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            response.ended = True
        elif isinstance(event, h2.events.StreamReset):
            if response:
                response.reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event
            self.closed = True

    def wait(self, stream, timeout=10):
        response = self.responses[stream]
        self.pump(lambda: response.ended or response.reset is not None, timeout)
        return response

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
