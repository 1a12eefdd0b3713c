"""A WebSocket client on a bare blocking socket with a tiny receive buffer: it can stop reading
for real (aiohttp's client keeps reading into its own buffers). Use from a thread."""

import base64
import json
import os
import socket
import struct

RECEIVE_BUFFER = 4096


class RawWs:
    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        self.sock.settimeout(10)
        self.sock.connect((host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def send_json(self, frame: dict) -> None:
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        else:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def read_to_end(self) -> tuple[list[dict], int | None, bool]:
        """Every text frame until the server ends the connection, the close code if a close
        frame got through, and whether the connection did end (within the socket timeout)."""
        data, ended = b"", False
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
            ended = True
        except ConnectionResetError:
            ended = True
        except TimeoutError:
            pass
        frames, code = _parse(data)
        return frames, code, ended

    def close(self) -> None:
        self.sock.close()


def _parse(data: bytes) -> tuple[list[dict], int | None]:
    frames, code, at = [], None, 0
    while at + 2 <= len(data):
        opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if size == 126:
            (size,) = struct.unpack("!H", data[at : at + 2])
            at += 2
        elif size == 127:
            (size,) = struct.unpack("!Q", data[at : at + 8])
            at += 8
        payload = data[at : at + size]
        if len(payload) < size:
            break
        at += size
        if opcode == 0x1:
            frames.append(json.loads(payload))
        elif opcode == 0x8 and len(payload) >= 2:
            (code,) = struct.unpack("!H", payload[:2])
    return frames, code
