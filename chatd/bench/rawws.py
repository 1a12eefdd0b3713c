"""A lean WebSocket client (RFC 6455) for the load generator.

One asyncio Protocol per socket: frames are cut out of the byte stream in `data_received` and
handed to a callback, with no task, future or message object per frame. A Python client spends
about as much CPU per frame as the server under test, so the generator must be this lean to
out-run the ceiling on one core. Client frames are masked as the RFC requires; the server's
pings are answered; text frames are assumed unfragmented (no contender fragments).
"""

import asyncio
import base64
import os
import random
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
OPEN_TIMEOUT = 30.0  # seconds for the upgrade, and for each frame of a handshake
Sink = Callable[[bytes], str | None]  # a text frame's payload -> the text to answer, if any


def client_frame(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        head = bytes((0x80 | opcode, 0x80 | size))
    elif size < 65536:
        head = bytes((0x80 | opcode, 0xFE)) + size.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0xFF)) + size.to_bytes(8, "big")
    key = random.getrandbits(32).to_bytes(4, "big")
    stream = int.from_bytes((key * (size // 4 + 1))[:size], "big")
    return head + key + (int.from_bytes(payload, "big") ^ stream).to_bytes(size, "big")


class RawWebSocket(asyncio.Protocol):
    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()  # until a sink is set
        self.sink: Sink | None = None
        self.closed = False
        self._drained: asyncio.Future[None] | None = None

    @classmethod
    async def connect(cls, url: str) -> "RawWebSocket":
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        transport, ws = await asyncio.get_running_loop().create_connection(cls, host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        transport.write(request.encode())
        await asyncio.wait_for(ws.upgraded, OPEN_TIMEOUT)
        return ws

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode(errors="replace")))
                self.close()
                return
            self.upgraded.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer, at, size = self.buffer, 0, len(self.buffer)
        while size - at >= 2:
            length, head = buffer[at + 1] & 0x7F, 2
            if length == 126:
                length, head = int.from_bytes(buffer[at + 2 : at + 4], "big"), 4
            elif length == 127:
                length, head = int.from_bytes(buffer[at + 2 : at + 10], "big"), 10
            end = at + head + length
            if end > size:
                break
            opcode, payload = buffer[at] & 0x0F, bytes(buffer[at + head : end])
            at = end
            if opcode == TEXT:
                self._text(payload)
            elif opcode == PING:
                self._write(PONG, payload)
            elif opcode == CLOSE:
                self._write(CLOSE, payload[:2])
                self.close()
                break
        del buffer[:at]

    def _text(self, payload: bytes) -> None:
        if self.sink is None:
            self.inbox.put_nowait(payload)
        elif (reply := self.sink(payload)) is not None:
            self._write(TEXT, reply.encode())

    def _write(self, opcode: int, payload: bytes) -> None:
        if not self.closed and self.transport is not None:
            self.transport.write(client_frame(opcode, payload))

    async def send_str(self, text: str) -> None:
        """Write a text frame; wait only while the kernel's buffer is full."""
        self._write(TEXT, text.encode())
        if self._drained is not None:
            await asyncio.shield(self._drained)

    async def receive_text(self) -> str:
        """The next text frame, for handshakes before a sink takes over."""
        payload = await asyncio.wait_for(self.inbox.get(), OPEN_TIMEOUT)
        if payload is None:
            raise ConnectionError("socket closed")
        return payload.decode()

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.inbox.put_nowait(None)
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed before the upgrade"))
        self.resume_writing()

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self._write(CLOSE, (1000).to_bytes(2, "big"))
            self.transport.close()
        self.closed = True
