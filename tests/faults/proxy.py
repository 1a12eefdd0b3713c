"""A small TCP proxy for fault tests (no fault-proxy package is available here): it forwards
loopback connections to an upstream (TCP or unix socket) and can add delay, blackhole, or
reset them.

- `delay`: seconds added before each chunk is passed on, both ways.
- `blackhole()`: from now on nothing is passed on in either direction and new connections are
  accepted but never connected upstream; the sockets stay open (a silent peer, a lost route).
- `reset()`: every open connection is aborted at once (RST), as a dying peer or NAT does.
- `heal()`: back to forwarding for new connections (blackholed ones stay dead: a real lost
  route does not come back to life mid-stream either).
"""

import asyncio
import contextlib
import socket
import struct

from tests.support import free_port

CHUNK = 65536


class TcpProxy:
    def __init__(self, *, upstream_host: str = "", upstream_port: int = 0, unix: str = "") -> None:
        self._upstream = (upstream_host, upstream_port)
        self._unix = unix
        self.port = free_port()
        self.delay = 0.0
        self.blackholed = False
        self._server: asyncio.Server | None = None
        self._pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self._tasks: set[asyncio.Task] = set()

    @property
    def open_connections(self) -> int:
        return len(self._pairs)

    async def start(self) -> "TcpProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        self.reset()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def blackhole(self) -> None:
        self.blackholed = True

    def heal(self) -> None:
        self.blackholed = False

    def reset(self) -> None:
        for client, upstream in list(self._pairs):
            for writer in (client, upstream):
                if writer is not None:
                    _abort(writer)
        self._pairs.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.blackholed:
            pair = (writer, None)
            self._pairs.add(pair)
            await _swallow(reader)  # accepted, never answered
            self._pairs.discard(pair)
            writer.close()
            return
        try:
            if self._unix:
                up_reader, up_writer = await asyncio.open_unix_connection(self._unix)
            else:
                up_reader, up_writer = await asyncio.open_connection(*self._upstream)
        except OSError:
            _abort(writer)
            return
        pair = (writer, up_writer)
        self._pairs.add(pair)
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer)),
            asyncio.create_task(self._pump(up_reader, writer)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            self._tasks.difference_update(pumps)
            self._pairs.discard(pair)
            for end in (writer, up_writer):
                end.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(CHUNK):
                if self.blackholed:
                    await _swallow(reader)  # read and dropped, so the sender never blocks
                    return
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()


async def _swallow(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(OSError):
        while await reader.read(CHUNK):
            pass


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with RST: SO_LINGER 0, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
