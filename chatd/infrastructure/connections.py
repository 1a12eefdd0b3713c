"""One WebSocket connection seen from the fan-out side: a bounded queue and a writer task.

Broadcasting only ever calls put_nowait: a socket that cannot keep up fills its own queue and is
closed, and nobody else waits for it. Per room the connection remembers the highest seq it has
queued, so a frame that arrives twice (a resume replay meeting the live stream) goes out once.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from chatd.domain.model import User

log = logging.getLogger(__name__)

QUEUE_SIZE = 1024  # frames; the frames are shared strings, so this costs pointers, not copies
SLOW_CONSUMER_CODE = 1013  # "try again later": reconnect and resume
SHUTDOWN_CODE = 1001  # "going away"
CLOSE_TIMEOUT = 1.0


class Socket(Protocol):
    async def send_str(self, data: str) -> None: ...

    async def close(self, *, code: int, message: bytes) -> bool: ...


class Connection:
    def __init__(
        self,
        socket: Socket,
        *,
        user: User,
        queue_size: int = QUEUE_SIZE,
        abort: Callable[[], None] = lambda: None,
    ) -> None:
        self.user = user
        # Held while this connection's membership changes (its own join/leave frames) and while
        # it follows one made elsewhere, so the two never interleave.
        self.membership_lock = asyncio.Lock()
        self._socket = socket
        self._abort = abort
        # A deque and one wake-up future instead of an asyncio.Queue: this is the per-recipient
        # cost of every broadcast, so it is kept to an append and, when the writer sleeps, a wake.
        self._frames: deque[str] = deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._idle = asyncio.Event()  # set while the writer has nothing left to send
        self._idle.set()
        self._queue_size = queue_size
        self._sent: dict[int, int] = {}  # room_id -> highest seq queued
        self._first: dict[int, int] = {}  # room_id -> seq the stream started after
        self._held: dict[int, list[tuple[int, str]]] = {}  # rooms being replayed
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.closed = False
        self.close_code: int | None = None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    # Rooms: what this connection has been sent.

    @property
    def rooms(self) -> set[int]:
        return set(self._sent)

    def watching(self, room_id: int) -> bool:
        return room_id in self._sent

    def begin_room(self, room_id: int, *, after_seq: int, hold: bool = False) -> None:
        """Stream the room from after_seq on; with hold, live frames wait for release()."""
        self._sent[room_id] = after_seq
        self._first[room_id] = after_seq
        if hold:
            self._held[room_id] = []

    def end_room(self, room_id: int) -> None:
        self._sent.pop(room_id, None)
        self._first.pop(room_id, None)
        self._held.pop(room_id, None)

    def sent_seq(self, room_id: int) -> int | None:
        return self._sent.get(room_id)

    def first_seq(self, room_id: int) -> int | None:
        return self._first.get(room_id)

    def hold(self, room_id: int) -> None:
        self._held.setdefault(room_id, [])

    def release(self, room_id: int) -> None:
        """Send what arrived live during a replay, minus what the replay already sent."""
        for seq, text in self._held.pop(room_id, ()):
            self.push_message(room_id, seq, text)

    def rewind(self, room_id: int, after_seq: int) -> None:
        """A replay is sending the seqs from after_seq up to where the stream started."""
        self._first[room_id] = min(self._first.get(room_id, after_seq), after_seq)

    def advance(self, room_id: int, seq: int) -> None:
        """Skip ahead (after resync_required): nothing up to seq will be sent."""
        if room_id in self._sent and seq > self._sent[room_id]:
            self._sent[room_id] = seq

    # Frames.

    def push_message(self, room_id: int, seq: int, text: str, *, live: bool = True) -> None:
        """Queue the room's next message; one already queued is dropped. A live one waits
        while the room is held for a replay (which pushes with live=False)."""
        held = self._held.get(room_id) if live else None
        if held is not None:
            held.append((seq, text))
            if len(held) > self._queue_size:
                self._overflow()
            return
        sent = self._sent.get(room_id)
        if sent is None or seq <= sent:
            return
        if seq != sent + 1:
            log.warning("room %s: connection skips from seq %s to %s", room_id, sent, seq)
        self._sent[room_id] = seq
        self.send(text)

    def push_replayed(self, text: str) -> None:
        """A replayed older message: out of the live order on purpose, asked for by the client."""
        self.send(text)

    def send(self, text: str) -> None:
        """Queue a frame for the writer; never waits. A full queue closes the connection."""
        if self.closed:
            return
        if len(self._frames) >= self._queue_size:
            self._overflow()
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

    # Lifetime.

    def _overflow(self) -> None:
        if self.closed:
            return
        log.info("closing the connection of user %s: its queue is full", self.user.id)
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
            await asyncio.wait_for(self._socket.close(code=code, message=message), CLOSE_TIMEOUT)
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
            try:
                await self._socket.send_str(frames.popleft())
            except Exception as error:
                log.debug("socket of user %s gone: %s", self.user.id, error)
                self.closed = True
                self._idle.set()
                return
