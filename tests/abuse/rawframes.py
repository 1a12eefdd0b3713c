"""WebSocket frames built byte by byte, for what no well-behaved client library will send:
invalid UTF-8, compressed frames without (or with) the extension, lying lengths, floods."""

import asyncio
import base64
import json
import os
import socket
import struct
import zlib
from dataclasses import dataclass

TEXT, BINARY, CLOSE, PING, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0x0
DEFLATE = "permessage-deflate"


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False) -> bytes:
    """One masked client frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, 0x80 | size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, size)
    mask = os.urandom(4)
    masked = _mask(payload, mask)
    return header + mask + masked


def _mask(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return b""
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(payload), "big"
    )


def text(value: str | dict) -> bytes:
    return frame(TEXT, (value if isinstance(value, str) else json.dumps(value)).encode())


def deflated(payload: bytes) -> bytes:
    """The payload as permessage-deflate sends it (RFC 7692: raw deflate, tail stripped)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4] if data.endswith(b"\x00\x00\xff\xff") else data


@dataclass
class RawSocket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    head: str  # the handshake's answer
    inflate: "zlib._Decompress | None" = None  # the server's deflate context, when negotiated

    @classmethod
    async def open(
        cls,
        port: int,
        *,
        extensions: str | None = None,
        origin: str | None = None,
        receive_buffer: int | None = None,
    ) -> "RawSocket":
        sock = socket.socket()
        if receive_buffer:  # a client that stops reading then stops the server's writes soon
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /ws HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if extensions:
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        if origin:
            lines.append(f"Origin: {origin}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)).decode()
        negotiated = DEFLATE in head.lower()
        return cls(reader, writer, head, zlib.decompressobj(-15) if negotiated else None)

    @property
    def upgraded(self) -> bool:
        return self.head.startswith("HTTP/1.1 101")

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def next_frame(self, within: float = 10.0) -> tuple[int, bytes]:
        """(opcode, payload) of the server's next frame; (CLOSE, b"") if the connection ends."""
        try:
            async with asyncio.timeout(within):
                first, second = await self.reader.readexactly(2)
                size = second & 0x7F
                if size == 126:
                    (size,) = struct.unpack("!H", await self.reader.readexactly(2))
                elif size == 127:
                    (size,) = struct.unpack("!Q", await self.reader.readexactly(8))
                payload = await self.reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError):
            return CLOSE, b""
        if first & 0x40 and self.inflate is not None:
            payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
        return first & 0x0F, payload

    async def next_json(self, within: float = 10.0) -> dict:
        opcode, payload = await self.next_frame(within)
        assert opcode == TEXT, (opcode, payload)
        return json.loads(payload)

    async def answer(self, within: float = 10.0) -> dict:
        """The next `ack` or `error` (events of the socket's rooms are passed over)."""
        async with asyncio.timeout(within):
            while (reply := await self.next_json(within))["type"] not in {"ack", "error"}:
                pass
        return reply

    async def close_code(self, within: float = 10.0) -> int | None:
        """Read until the server closes: the code of its close frame (None: no close frame,
        the connection just ended)."""
        async with asyncio.timeout(within):
            while True:
                opcode, payload = await self.next_frame(within)
                if opcode == CLOSE:
                    return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None

    async def auth(self, token: str) -> dict:
        await self.send(text({"type": "auth", "token": token}))
        ready = await self.next_json()
        assert ready["type"] == "ready", ready
        return ready

    def close(self) -> None:
        self.writer.close()
