"""The native Convene protocol (Docs/PROTOCOL.md) in a few functions: frames to bytes, bytes
to frames, and a blocking client good enough to probe a server and to attack it. Loopback only."""
import socket
import struct
import time

PREFACE = b"CNVN\x01\x00\x00\x00"
SETTINGS, CALL, HEADERS, DATA, END, CANCEL, PING, GOAWAY, WINDOW_UPDATE = range(9)
HEADER = struct.Struct(">IBBI")


def frame(kind, stream, payload=b"", flags=0):
    return HEADER.pack(len(payload), kind, flags, stream) + payload


def settings(**values):
    ids = {"max_frame_size": 1, "max_concurrent_streams": 2, "initial_window_size": 3, "accept_encodings": 4,
           "max_metadata_size": 5, "max_message_size": 6, "connection_window_size": 7}
    return frame(SETTINGS, 0, b"".join(struct.pack(">HI", ids[k], v) for k, v in values.items()))


def metadata_block(entries):
    out = [struct.pack(">H", len(entries))]
    for key, value in entries:
        key = key.encode() if isinstance(key, str) else key
        value = value.encode() if isinstance(value, str) else value
        out.append(struct.pack(">B", len(key)) + key + struct.pack(">H", len(value)) + value)
    return b"".join(out)


def call(stream, path, timeout_us=0, metadata=()):
    path = path.encode()
    return frame(CALL, stream, struct.pack(">QBH", timeout_us, 0, len(path)) + path + metadata_block(metadata))


def message(payload, declared=None):
    return struct.pack(">BI", 0, len(payload) if declared is None else declared) + payload


def data(stream, payload, end=False, max_frame=65536):
    """DATA frames of at most `max_frame` bytes carrying `payload` (END_STREAM on the last)."""
    if len(payload) <= max_frame:
        return frame(DATA, stream, payload, 1 if end else 0)
    pieces = [payload[i:i + max_frame] for i in range(0, len(payload), max_frame)]
    return b"".join(frame(DATA, stream, piece, 1 if end and i == len(pieces) - 1 else 0) for i, piece in enumerate(pieces))


def cancel(stream):
    return frame(CANCEL, stream, b"\x01")


def window_update(stream, increment):
    return frame(WINDOW_UPDATE, stream, struct.pack(">I", increment))


def bearer(token):
    return [("authorization", f"Bearer {token}")]


# Protobuf, by hand, for the few messages the scripts send.
def varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def echo_request(payload):
    return b"\x0a" + varint(len(payload)) + payload


def stream_request(count, size):
    return b"\x08" + varint(count) + b"\x10" + varint(size)


class FrameReader:
    """Frames out of a byte stream (the server's preface first)."""

    def __init__(self):
        self.buffer = bytearray()
        self.preface = False

    def feed(self, chunk):
        self.buffer += chunk
        frames = []
        if not self.preface:
            if len(self.buffer) < 8:
                return frames
            del self.buffer[:8]
            self.preface = True
        while len(self.buffer) >= HEADER.size:
            length, kind, flags, stream = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + length:
                break
            payload = bytes(self.buffer[HEADER.size:HEADER.size + length])
            del self.buffer[:HEADER.size + length]
            frames.append((kind, flags, stream, payload))
        return frames


def end_status(payload):
    code, length = struct.unpack_from(">BI", payload)
    return code, payload[5:5 + length].decode(errors="replace")


def goaway_fields(payload):
    last, code, length = struct.unpack_from(">IBH", payload)
    return last, code, payload[7:7 + length].decode(errors="replace")


def connect(port, source="127.0.0.1", timeout=10):
    """A TCP connection to 127.0.0.1:port from a chosen loopback address (127.0.0.0/8)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Client:
    """One connection making one call at a time, reading what it is sent (and crediting it)."""

    def __init__(self, port, source="127.0.0.1", timeout=5):
        self.timeout = timeout
        self.sock = connect(port, source, timeout)
        self.send(PREFACE + settings())
        self.reader = FrameReader()
        self.next_stream = 1
        self.closed = False

    def unary(self, path, request=b"", metadata=(), timeout=5):
        """(status code, message, response bytes); raises on a closed connection or a timeout."""
        stream = self.next_stream
        self.next_stream += 2
        self.send(call(stream, path, int(timeout * 1e6), metadata) + data(stream, message(request), end=True))
        response = b""
        received = 0
        deadline = time.monotonic() + timeout
        while True:
            self.sock.settimeout(max(0.001, deadline - time.monotonic()))
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                self.closed = True
                raise ConnectionError("server closed the connection")
            for kind, flags, sid, payload in self.reader.feed(chunk):
                if kind == PING and not flags & 1:
                    self.send(frame(PING, 0, payload, 1))
                elif kind == GOAWAY:
                    self.closed = True
                    raise ConnectionError("GOAWAY %d %s" % goaway_fields(payload)[1:])
                elif kind == DATA and sid == stream:
                    response += payload
                    received += len(payload)
                elif kind == END and sid == stream:
                    if received:
                        self.send(window_update(0, received))
                    code, text = end_status(payload)
                    return code, text, response[5:]

    def send(self, data):
        # A read shortens the socket's timeout to what is left of its wait; a send gets the
        # connection's own, or a server slow to read for a moment would fail it.
        self.sock.settimeout(self.timeout)
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
