"""An event bus inside one process: for unit tests and single-process use."""

from collections.abc import Callable

from chatd.domain.events import RoomEvent

Listener = Callable[[RoomEvent], None]


class InMemoryBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, event: RoomEvent) -> None:
        for listener in self._listeners:
            listener(event)
