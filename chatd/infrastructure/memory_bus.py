"""An event bus inside one process: for unit tests and single-process use."""

import asyncio
from collections.abc import Callable
from typing import Protocol

from chatd.domain.events import RoomEvent
from chatd.infrastructure.wire import (
    ROOM_PREFIX,
    USER_PREFIX,
    Envelope,
    channels_of,
    event_frame,
    read_frame,
)

Listener = Callable[[RoomEvent], None]


class BusSink(Protocol):
    """Whoever fans frames out to this process's connections (the Hub)."""

    def on_room_frame(self, envelope: Envelope) -> None: ...

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None: ...

    def on_reconnected(self) -> None:
        """Frames may have been lost while the bus was away: check every room."""


def route(sink: BusSink | None, channel: str, text: str) -> None:
    """Hand one received frame to the sink, read once."""
    if sink is None:
        return
    if channel.startswith(ROOM_PREFIX):
        sink.on_room_frame(read_frame(text))
    elif channel.startswith(USER_PREFIX):
        sink.on_user_frame(int(channel[len(USER_PREFIX) :]), read_frame(text))


class InMemoryBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._channels: set[str] = set()
        self._sink: BusSink | None = None

    def listen(self, listener: Listener) -> None:
        """Receive every published event as an object (for tests of publishers)."""
        self._listeners.append(listener)

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
        for listener in self._listeners:
            listener(event)
        text = event_frame(event)
        for channel in channels_of(event):
            if channel in self._channels:
                route(self._sink, channel, text)
