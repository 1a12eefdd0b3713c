"""Writing a connection's queued text frames to its WebSocket with as few system calls as the
transport allows: uncompressed frames are framed here and handed to the transport in one write.

aiohttp's WebSocketResponse writes one frame per call (one send() each). Server frames are not
masked, so framing a text frame is a two-to-ten-byte header; the batch goes out beside aiohttp's
own writer (pings, the close frame), always in whole frames. Compressed sockets go through aiohttp.
"""

import struct
from typing import Protocol

from aiohttp import web

TEXT_FIN = 0x81  # FIN + opcode 1 (text)


class FrameSocket(Protocol):
    async def send_many(self, texts: list[str]) -> None: ...

    async def close(self, *, code: int, message: bytes) -> bool: ...


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455, section 5.2)."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", TEXT_FIN, size) + payload
    if size < 65536:
        return struct.pack("!BBH", TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", TEXT_FIN, 127, size) + payload


class WebSocketFrames:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        writer = ws._writer  # aiohttp's frame writer: its transport and protocol
        self._batched = writer is not None and not writer.compress
        self._transport = writer.transport if writer is not None else None
        self._protocol = writer.protocol if writer is not None else None

    async def send_many(self, texts: list[str]) -> None:
        if not self._batched:
            for text in texts:
                await self._ws.send_str(text)
            return
        transport, protocol = self._transport, self._protocol
        if transport is None or transport.is_closing() or self._ws.closed:
            raise ConnectionResetError("the socket is closing")
        transport.write(b"".join([text_frame(text.encode()) for text in texts]))
        if protocol is not None and protocol.writing_paused:
            await protocol._drain_helper()  # the kernel's buffer is full: wait for the peer

    async def close(self, *, code: int, message: bytes) -> bool:
        return await self._ws.close(code=code, message=message)
