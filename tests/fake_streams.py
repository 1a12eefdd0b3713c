"""Fakes of the real-time side for unit tests: the bus inside one process, an outbox that
keeps what it is sent, a socket, the typing gate and presence shared by several processes; and a
bounded wait for background work."""

import asyncio
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta

from chatd.application.ports import Renewal
from chatd.domain.events import BusEvent, PresenceChanged, UserTyping
from chatd.domain.model import User
from chatd.infrastructure.channels import BusSink, bus_payload, channels_of, route
from tests.fakes import ALICE, FakeClock


class InMemoryBus:
    """The event bus inside one process: keeps every published event in `events` (`on_publish`
    looks at the world at publish time), and routes each, encoded, to the channels subscribed."""

    def __init__(self, on_publish: Callable[[BusEvent], None] | None = None) -> None:
        self.events: list[BusEvent] = []
        self._on_publish = on_publish
        self._channels: set[str] = set()
        self._sink: BusSink | None = None
        self.away = False  # the subscriber is disconnected: what is published now is lost

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

    async def publish(self, event: BusEvent) -> None:
        if self._on_publish is not None:
            self._on_publish(event)
        self.events.append(event)
        if self.away:
            return
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


class FakeTypingGate:
    """The typing gate of every process at once: one slot per user and room, timed by `clock`."""

    def __init__(self, bus: InMemoryBus, clock: FakeClock) -> None:
        self._bus = bus
        self._clock = clock
        self._taken_until: dict[tuple[int, int], datetime] = {}
        self.calls = 0

    async def forward(self, event: UserTyping, *, interval: timedelta) -> timedelta:
        self.calls += 1
        now, slot = self._clock.now(), (event.user.id, event.room_id)
        taken_until = self._taken_until.get(slot)
        if taken_until is not None and now < taken_until:
            return taken_until - now
        self._taken_until[slot] = now + interval
        await self._bus.publish(event)
        return timedelta(0)


class PresenceWorld:
    """Presence shared by several fake processes (each a FakePresenceStore), as Redis keeps it:
    deadlines by `clock`, announcements published on `bus`. `down` makes every call fail."""

    def __init__(self, bus: InMemoryBus, clock: FakeClock, *, ttl: float = 20.0) -> None:
        self.bus, self.clock, self.ttl = bus, clock, timedelta(seconds=ttl)
        self.deadlines: dict[str, datetime] = {}
        self.holders: dict[int, set[str]] = {}  # user id -> processes
        self.held: dict[str, set[int]] = {}  # process -> user ids
        self.sweepers: dict[str, str] = {}  # expired process -> who sweeps it
        self.down = False

    def alive(self, process: str) -> bool:
        deadline = self.deadlines.get(process)
        return deadline is not None and deadline > self.clock.now()

    def is_online(self, user_id: int) -> bool:
        return any(self.alive(process) for process in self.holders.get(user_id, ()))

    def announced(self) -> list[tuple[int, int, bool]]:
        """(room, user, online) of every presence frame so far."""
        return [
            (e.room_id, e.user.id, e.online)
            for e in self.bus.events
            if isinstance(e, PresenceChanged)
        ]


class FakePresenceStore:
    """One process's view of a PresenceWorld; `calls` counts its round trips."""

    def __init__(self, world: PresenceWorld, name: str = "a") -> None:
        self.world, self.name = world, name
        self.calls = 0

    async def claim(self, user: User, room_ids: list[int]) -> bool:
        world = self._call()
        was_online = world.is_online(user.id)
        world.holders.setdefault(user.id, set()).add(self.name)
        world.held.setdefault(self.name, set()).add(user.id)
        return not was_online and await self._announce(user, room_ids, online=True)

    async def release(self, user: User, room_ids: list[int], *, process: str = "") -> bool:
        world, process = self._call(), process or self.name
        if process != self.name and world.alive(process):
            return False
        world.held.get(process, set()).discard(user.id)
        holders = world.holders.get(user.id, set())
        if process not in holders:
            return False
        holders.discard(process)
        return not world.is_online(user.id) and await self._announce(user, room_ids, online=False)

    async def renew(self) -> Renewal:
        world = self._call()
        now, before = world.clock.now(), world.deadlines.get(self.name)
        world.deadlines[self.name] = now + world.ttl
        expired = [p for p, d in world.deadlines.items() if d < now and p not in world.sweepers]
        world.sweepers.update((process, self.name) for process in expired)
        return Renewal(lost=before is None or before <= now, expired=expired)

    async def orphans(self, process: str) -> list[int]:
        return sorted(self._call().held.get(process, ()))

    async def forget(self, process: str) -> None:
        world = self._call()
        if not world.alive(process):
            for table in (world.deadlines, world.held, world.sweepers):
                table.pop(process, None)

    async def online(self, user_ids: list[int]) -> set[int]:
        world = self._call()
        return {user_id for user_id in user_ids if world.is_online(user_id)}

    def _call(self) -> PresenceWorld:
        if self.world.down:
            raise ConnectionError("redis is down")
        self.calls += 1
        return self.world

    async def _announce(self, user: User, room_ids: list[int], *, online: bool) -> bool:
        for room_id in room_ids:
            await self.world.bus.publish(PresenceChanged(room_id=room_id, user=user, online=online))
        return True
