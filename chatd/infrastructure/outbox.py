"""One WebSocket connection's outbound frames: a bounded queue, written out by this process's
Flusher once per turn of the event loop.

Broadcasting only ever calls send(), which never waits: an append, and the first one in a turn
marks the outbox for the flusher. No task switch and no timer per frame or per recipient. A socket
whose transport is full is left out until it drains; meanwhile its queue fills, and past its
capacity the connection is closed (1013), so nobody else ever waits for a slow client.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024  # frames; the frames are shared strings, so this costs pointers, not copies
SLOW_CONSUMER_CODE = 1013  # "try again later": reconnect and resume
SHUTDOWN_CODE = 1001  # "going away"
CLOSE_TIMEOUT = 1.0
WRITE_BATCH = 64  # frames per write: then the transport's flow control has its say


class Socket(Protocol):
    def write(self, texts: list[str]) -> bool:
        """Write these frames now, in order; True if the transport asks to wait for writable()."""

    async def writable(self) -> None:
        """Until the transport takes more (raises if the connection is gone)."""

    async def close(self, *, code: int, message: bytes) -> bool: ...


class Flusher:
    """Writes every outbox that got frames, once per turn of the event loop."""

    def __init__(self) -> None:
        self._marked: list[Outbox] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def mark(self, outbox: "Outbox") -> None:
        if not self._marked:
            loop = self._loop
            if loop is None:
                loop = self._loop = asyncio.get_running_loop()
            loop.call_soon(self._flush)
        self._marked.append(outbox)

    def _flush(self) -> None:
        marked, self._marked = self._marked, []
        for outbox in marked:
            outbox.flush()


class Outbox:
    __slots__ = (
        "_abort",
        "_close_timeout",
        "_closer",
        "_emptied",
        "_flusher",
        "_frames",
        "_marked",
        "_socket",
        "_waiting",
        "capacity",
        "close_code",
        "closed",
        "user_id",
    )

    def __init__(
        self,
        socket: Socket,
        *,
        user_id: int,
        flusher: Flusher,
        capacity: int = QUEUE_SIZE,
        close_timeout: float = CLOSE_TIMEOUT,
        abort: Callable[[], None] = lambda: None,
    ) -> None:
        self.user_id = user_id
        self.capacity = capacity
        self._socket = socket
        self._flusher = flusher
        self._abort = abort
        self._close_timeout = close_timeout
        # A list, not a deque: an empty deque holds a 64-slot block (over 600 bytes per idle
        # socket), an empty list nothing; flush() takes whole batches off its front.
        self._frames: list[str] = []
        self._marked = False  # waiting for the flusher
        self._waiting: asyncio.Task[None] | None = None  # for a full transport to drain
        self._emptied: asyncio.Event | None = None  # made by close(drain=...) only
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        self.close_code: int | None = None

    def send(self, text: str) -> None:
        """Queue a frame; never waits. A full queue closes the connection."""
        if self.closed:
            return
        frames = self._frames
        if len(frames) >= self.capacity:
            self.overflow()
            return
        frames.append(text)
        if not self._marked and self._waiting is None:
            self._marked = True
            self._flusher.mark(self)

    @property
    def queued(self) -> int:
        return len(self._frames)

    def flush(self) -> None:
        """Write what is queued (the flusher calls this), until the transport asks to wait."""
        self._marked = False
        frames = self._frames
        try:
            while frames and not self.closed and self._waiting is None:
                if len(frames) <= WRITE_BATCH:  # the usual case: all of it, in one write
                    batch, frames = frames, []
                    self._frames = frames
                else:
                    batch = frames[:WRITE_BATCH]
                    del frames[:WRITE_BATCH]
                if self._socket.write(batch):
                    self._waiting = asyncio.create_task(self._wait_writable())
        except Exception as error:
            self._gone(error)
        if not frames and self._emptied is not None:
            self._emptied.set()

    def overflow(self) -> None:
        if self.closed:
            return
        log.info("closing the connection of user %s: its queue is full", self.user_id)
        self._begin_close(SLOW_CONSUMER_CODE, b"too slow: reconnect and resume")

    async def close(self, *, code: int = SHUTDOWN_CODE, message: bytes = b"", drain: float = 0):
        """Close the socket, first letting the queue drain for up to `drain` s."""
        if not self.closed:
            if drain and self._frames:
                self._emptied = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._emptied.wait(), drain)
            self._begin_close(code, message)
        if self._closer is not None:
            await asyncio.shield(self._closer)

    def stop(self) -> None:
        """The handler is done with the socket: stop writing."""
        self.closed = True
        if self._waiting is not None:
            self._waiting.cancel()

    async def _wait_writable(self) -> None:
        try:
            await self._socket.writable()
        except Exception as error:
            self._gone(error)
            return
        self._waiting = None
        self.flush()

    def _gone(self, error: Exception) -> None:
        log.debug("socket of user %s gone: %s", self.user_id, error)
        self.closed = True

    def _begin_close(self, code: int, message: bytes) -> None:
        self.closed = True
        self.close_code = code
        if self._waiting is not None:
            self._waiting.cancel()
        self._closer = asyncio.create_task(self._close_socket(code, message))

    async def _close_socket(self, code: int, message: bytes) -> None:
        try:
            close = self._socket.close(code=code, message=message)
            await asyncio.wait_for(close, self._close_timeout)
        except Exception:
            # A client that reads nothing does not read a close frame either.
            self._abort()
