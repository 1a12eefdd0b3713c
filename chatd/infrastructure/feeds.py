"""A room's stream of messages in one process: gapless and ascending, whatever Pub/Sub does.

Pub/Sub is only a notification. The feed knows the last seq it passed on; the next one goes out
at once, an old one is dropped, and one past a hole waits while the hole is filled from
PostgreSQL by a task of the feed's own (the subscriber loop never waits for the database).
"""

import asyncio
import logging

from chatd.application.delivery import RoomCursor, seq_after_hole
from chatd.application.frames import position_frame
from chatd.application.ports import MessageReader, Outbox
from chatd.domain.errors import Unavailable
from chatd.domain.events import Position
from chatd.infrastructure.channels import Envelope

log = logging.getLogger(__name__)

FILL_PAGE = 500
FILL_RETRY = 0.05  # seconds, doubled per try while the database misses a seq it must have
FILL_PATIENCE = 5.0  # seconds before a hole that never fills is stepped over
PENDING_LIMIT = 5000  # frames held while a fill runs; past it they are left to the fill
TOTALS = {"gap_fills": 0, "filled": 0, "holes": 0}  # this process's, read by /metrics


class RoomFeed:
    def __init__(
        self,
        room_id: int,
        *,
        messages: MessageReader,
        fill_retry: float = FILL_RETRY,
        fill_patience: float = FILL_PATIENCE,
        pending_limit: int = PENDING_LIMIT,
    ) -> None:
        self.room_id = room_id
        self.last_seq: int | None = None  # None until start() has read the database
        self.cursors: set[RoomCursor] = set()  # one per connection watching the room
        self._waiters = 0  # connections waiting for the feed to be ready
        self._messages = messages
        self._fill_retry = fill_retry
        self._fill_patience = fill_patience
        self._pending_limit = pending_limit
        self._pending: dict[int, str] = {}
        self._skipped = False  # a frame was not held (PENDING_LIMIT) since the last read
        self._filling: asyncio.Task[None] | None = None
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(self, subscribed: asyncio.Future[None], *, confirm_within: float = 5.0) -> None:
        """Once the channel is subscribed, read where the room is; then the feed is live."""
        try:
            try:
                await asyncio.wait_for(asyncio.shield(subscribed), confirm_within)
            except TimeoutError:
                # The bus is down; its reconnect check will catch up this room.
                log.warning("room %s: subscription unconfirmed", self.room_id)
            self.last_seq = await self._messages.last_seq(self.room_id)
        except asyncio.CancelledError:
            self._ready.cancel()
            raise
        except Exception as error:
            self._ready.set_exception(error)
            self._ready.exception()  # retrieved: the waiters raise it themselves
            raise
        self._drain()
        if self._pending:
            self._start_fill()
        self._ready.set_result(None)

    async def ready(self) -> None:
        """Wait until the feed is live; raises what made its start fail."""
        self._waiters += 1
        try:
            await asyncio.wait({self._ready})
        finally:
            self._waiters -= 1
        if self._ready.cancelled():
            raise Unavailable("the room's feed was stopped")
        self._ready.result()

    @property
    def is_ready(self) -> bool:
        done = self._ready.done() and not self._ready.cancelled()
        return done and self._ready.exception() is None

    @property
    def idle(self) -> bool:
        """Started, and nobody watches or waits for it: it may be closed."""
        return self.is_ready and not self.cursors and not self._waiters

    def add(self, outbox: Outbox, *, hold: bool) -> RoomCursor:
        """Stream to the outbox from the feed's position on; call once ready()."""
        assert self.last_seq is not None
        cursor = RoomCursor(outbox, self.room_id, after_seq=self.last_seq, hold=hold)
        self.cursors.add(cursor)
        return cursor

    def remove(self, cursor: RoomCursor) -> None:
        self.cursors.discard(cursor)

    def on_frame(self, envelope: Envelope) -> None:
        if envelope.seq is None:
            self._broadcast(envelope)
        else:
            self.on_message(envelope.seq, envelope.text)

    def on_message(self, seq: int, text: str) -> None:
        if self.last_seq is None:
            self._pending[seq] = text
            return
        if seq <= self.last_seq:
            return
        if seq == self.last_seq + 1 and self._filling is None:
            self._deliver(seq, text)
            self._drain()
            return
        if len(self._pending) < self._pending_limit:
            self._pending[seq] = text
        else:
            self._skipped = True  # it is stored: the fill reads it from the database
        self._start_fill()

    def check(self) -> None:
        """Compare with the database (after the bus was away) and fill what is missing."""
        if self.last_seq is not None:
            self._skipped = True  # a fill already running must read once more
            self._start_fill()

    def close(self) -> None:
        if self._filling is not None:
            self._filling.cancel()
        self.cursors.clear()
        self._pending.clear()

    def _broadcast(self, envelope: Envelope) -> None:
        # Typing goes to the others only; membership changes go to everyone.
        skip = envelope.user_id if envelope.type == "typing" else None
        for cursor in self.cursors:
            if cursor.outbox.user_id != skip:
                cursor.outbox.send(envelope.text)

    def _deliver(self, seq: int, text: str) -> None:
        self.last_seq = seq
        for cursor in self.cursors:
            cursor.push(seq, text)

    def _drain(self) -> None:
        assert self.last_seq is not None
        for seq in [seq for seq in self._pending if seq <= self.last_seq]:
            del self._pending[seq]
        while (text := self._pending.pop(self.last_seq + 1, None)) is not None:
            self._deliver(self.last_seq + 1, text)

    def _start_fill(self) -> None:
        if self._filling is None:
            self._filling = asyncio.create_task(self._fill())
            TOTALS["gap_fills"] += 1

    async def _fill(self) -> None:
        waited, delay = 0.0, self._fill_retry
        try:
            while True:
                self._skipped = False
                rows = await self._fetch_page()
                delivered = self._deliver_rows(rows or [])
                TOTALS["filled"] += delivered
                self._drain()
                done = rows is not None and len(rows) < FILL_PAGE and not self._skipped
                if done and not self._pending:
                    return
                if delivered:
                    waited, delay = 0.0, self._fill_retry
                    continue
                if waited >= self._fill_patience and rows is not None:
                    self._step_over_hole(rows)
                    waited = 0.0
                    continue
                await asyncio.sleep(delay)
                waited += delay
                delay = min(delay * 2, 1.0)
        finally:
            self._filling = None

    async def _fetch_page(self) -> list[Position] | None:
        assert self.last_seq is not None
        try:
            return await self._messages.list_after(self.room_id, self.last_seq, limit=FILL_PAGE)
        except Exception:
            log.exception("room %s: gap fill failed; retrying", self.room_id)
            return None

    def _deliver_rows(self, rows: list[Position]) -> int:
        delivered = 0
        for message in rows:
            assert self.last_seq is not None
            if message.seq == self.last_seq + 1:
                self._deliver(message.seq, position_frame(message))
                delivered += 1
        return delivered

    def _step_over_hole(self, rows: list[Position]) -> None:
        assert self.last_seq is not None
        after = seq_after_hole(self.last_seq, [*self._pending, *(m.seq for m in rows)])
        if after != self.last_seq:
            log.error("room %s: seqs %s..%s never appeared", self.room_id, self.last_seq + 1, after)
            TOTALS["holes"] += 1
            self.last_seq = after
