"""Fakes of the real-time side for unit tests: the bus inside one process, an outbox that
keeps what it is sent, a socket; and a bounded wait for background work."""

import asyncio
import itertools
from collections.abc import Callable

from chatd.domain.events import RoomEvent
from chatd.domain.model import User
from chatd.infrastructure.channels import BusSink, bus_payload, channels_of, route
from tests.fakes import ALICE


class InMemoryBus:
    """The event bus inside one process: keeps every published event in `events` (`on_publish`
    looks at the world at publish time), and routes each, encoded, to the channels subscribed."""

    def __init__(self, on_publish: Callable[[RoomEvent], None] | None = None) -> None:
        self.events: list[RoomEvent] = []
        self._on_publish = on_publish
        self._channels: set[str] = set()
        self._sink: BusSink | None = None

    def attach(self, sink: BusSink) -> None:
        self._sink = sink

    def subscribe(self, channel: str) -> asyncio.Future[None]:
        self._channels.add(channel)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    async def publish(self, event: RoomEvent) -> None:
        if self._on_publish is not None:
            self._on_publish(event)
        self.events.append(event)
        payload = bus_payload(event)
        for channel in channels_of(event):
            if channel in self._channels:
                route(self._sink, channel, payload)


class FakeOutbox:
    """A connection's outbox that keeps what it was sent, at once (no writer task)."""

    def __init__(self, user: User = ALICE, *, capacity: int = 1024) -> None:
        self.user_id = user.id
        self.capacity = capacity
        self.sent: list[str] = []
        self.closed = False
        self.close_code: int | None = None

    def send(self, text: str) -> None:
        if not self.closed:
            self.sent.append(text)

    def overflow(self) -> None:
        self.closed, self.close_code = True, 1013

    async def close(self, *, code: int, message: bytes = b"", drain: float = 0) -> None:
        self.closed, self.close_code = True, code

    def stop(self) -> None:
        self.closed = True


class FakeSocket:
    """Records what is written; `blocked` is a client that reads nothing: its transport is full,
    and stays so."""

    def __init__(self, *, blocked: bool = False) -> None:
        self.sent: list[str] = []
        self.writes = 0
        self.blocked = blocked
        self.closed_with: int | None = None
        self.aborted = asyncio.Event()
        self._changed = asyncio.Event()

    def write(self, texts: list[str]) -> bool:
        self.writes += 1
        if self.blocked:
            return True
        self.sent.extend(texts)
        self._changed.set()
        return False

    async def writable(self) -> None:
        if self.blocked:
            await asyncio.Event().wait()

    async def close(self, *, code: int, message: bytes) -> bool:
        if self.blocked:
            await asyncio.Event().wait()
        self.closed_with = code
        self._changed.set()
        return True

    def abort(self) -> None:
        self.aborted.set()

    async def received(self, count: int, within: float = 2.0) -> list[str]:
        """Wait until `count` frames were written; all of them."""
        async with asyncio.timeout(within):
            while len(self.sent) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.sent


async def until(condition: Callable[[], bool], within: float = 2.0) -> None:
    """Wait, bounded, for a condition on state that no event announces (a background task's
    work, such as a gap fill or a retry after a delay), looking again every millisecond."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.001)
