"""One WebSocket connection's outbound frames: a bounded queue and the writer task draining it.

Broadcasting only ever calls send(), which never waits: a socket that cannot keep up fills its
own queue and is closed, and nobody else waits for it.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024  # frames; the frames are shared strings, so this costs pointers, not copies
SLOW_CONSUMER_CODE = 1013  # "try again later": reconnect and resume
SHUTDOWN_CODE = 1001  # "going away"
CLOSE_TIMEOUT = 1.0
WRITE_BATCH = 64  # frames per write: then the transport's flow control has its say


class Socket(Protocol):
    async def send_many(self, texts: list[str]) -> None:
        """Write these frames, in order (at once where the transport allows)."""

    async def close(self, *, code: int, message: bytes) -> bool: ...


class Outbox:
    def __init__(
        self,
        socket: Socket,
        *,
        user_id: int,
        capacity: int = QUEUE_SIZE,
        close_timeout: float = CLOSE_TIMEOUT,
        abort: Callable[[], None] = lambda: None,
    ) -> None:
        self.user_id = user_id
        self.capacity = capacity
        self._socket = socket
        self._abort = abort
        self._close_timeout = close_timeout
        # A deque and one wake-up future instead of an asyncio.Queue: this is the per-recipient
        # cost of every broadcast, so it is kept to an append and, when the writer sleeps, a wake.
        self._frames: deque[str] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._idle = asyncio.Event()  # set while the writer has nothing left to send
        self._idle.set()
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        self.close_code: int | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    def send(self, text: str) -> None:
        """Queue a frame for the writer; never waits. A full queue closes the connection."""
        if self.closed:
            return
        if len(self._frames) >= self.capacity:
            self.overflow()
            return
        self._frames.append(text)
        self._idle.clear()
        wakeup = self._wakeup
        if wakeup is not None:
            self._wakeup = None
            if not wakeup.done():
                wakeup.set_result(None)

    @property
    def queued(self) -> int:
        return len(self._frames)

    def overflow(self) -> None:
        if self.closed:
            return
        log.info("closing the connection of user %s: its queue is full", self.user_id)
        self._begin_close(SLOW_CONSUMER_CODE, b"too slow: reconnect and resume")

    async def close(self, *, code: int = SHUTDOWN_CODE, message: bytes = b"", drain: float = 0):
        """Close the socket, first letting the writer flush the queue for up to `drain` s."""
        if not self.closed:
            if drain:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._idle.wait(), drain)
            self._begin_close(code, message)
        if self._closer is not None:
            await asyncio.shield(self._closer)

    def stop(self) -> None:
        """The handler is done with the socket: stop writing."""
        self.closed = True
        if self._writer is not None:
            self._writer.cancel()

    def _begin_close(self, code: int, message: bytes) -> None:
        self.closed = True
        self.close_code = code
        if self._writer is not None:
            self._writer.cancel()
        self._closer = asyncio.create_task(self._close_socket(code, message))

    async def _close_socket(self, code: int, message: bytes) -> None:
        try:
            close = self._socket.close(code=code, message=message)
            await asyncio.wait_for(close, self._close_timeout)
        except Exception:
            # A client that reads nothing does not read a close frame either.
            self._abort()

    async def _write_loop(self) -> None:
        frames, loop = self._frames, asyncio.get_running_loop()
        while True:
            if not frames:
                self._idle.set()
                self._wakeup = loop.create_future()
                await self._wakeup
                continue
            batch = [frames.popleft() for _ in range(min(len(frames), WRITE_BATCH))]
            try:
                await self._socket.send_many(batch)
            except Exception as error:
                log.debug("socket of user %s gone: %s", self.user_id, error)
                self.closed = True
                self._idle.set()
                return
