"""Writing a connection's queued text frames to its WebSocket with as few system calls as the
transport allows: uncompressed frames are framed here and handed to the transport in one write.

aiohttp's WebSocketResponse writes one frame per call (one send() each). Server frames are not
masked, so framing a text frame is a two-to-ten-byte header; the batch goes out beside aiohttp's
own writer (pings, the close frame), always in whole frames. A frame is framed once per process,
whatever the number of recipients. Compressed sockets go through aiohttp, frame by frame.
"""

import asyncio
import functools
import struct

from aiohttp import web

TEXT_FIN = 0x81  # FIN + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (RFC 6455, section 5.2)."""
    size = len(payload)
    if size < 126:
        return struct.pack("!BB", TEXT_FIN, size) + payload
    if size < 65536:
        return struct.pack("!BBH", TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", TEXT_FIN, 127, size) + payload


@functools.lru_cache(maxsize=1024)
def framed(text: str) -> bytes:
    """The frame of a text; a broadcast's one shared string is framed once for all recipients."""
    return text_frame(text.encode())


class WebSocketFrames:
    __slots__ = ("_batched", "_protocol", "_sending", "_transport", "_ws")

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws
        writer = ws._writer  # aiohttp's frame writer: its transport and protocol
        self._batched = writer is not None and not writer.compress
        self._transport = writer.transport if writer is not None else None
        self._protocol = writer.protocol if writer is not None else None
        self._sending: asyncio.Future[None] | None = None  # compressed frames going out

    def write(self, texts: list[str]) -> bool:
        if not self._batched:
            self._sending = asyncio.ensure_future(self._send_each(texts))
            return True
        transport = self._transport
        if transport is None or transport.is_closing() or self._ws.closed:
            raise ConnectionResetError("the socket is closing")
        transport.write(b"".join([framed(text) for text in texts]))
        return self._protocol is not None and self._protocol.writing_paused

    async def writable(self) -> None:
        if self._sending is not None:
            sending, self._sending = self._sending, None
            await sending
        elif self._protocol is not None:
            await self._protocol._drain_helper()  # the kernel's buffer is full: wait for the peer

    async def close(self, *, code: int, message: bytes) -> bool:
        return await self._ws.close(code=code, message=message)

    async def _send_each(self, texts: list[str]) -> None:
        for text in texts:
            await self._ws.send_str(text)
