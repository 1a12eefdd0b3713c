"""Ports wrapped to count what passes through them, in plain ints that /metrics reads when it is
scraped: nothing here calls prometheus, and per frame the cost is one addition."""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from chatd.application.ports import EventBus, FailureLimiter, RateLimiter
from chatd.domain.events import MessagePosted, RoomEvent

SLOW_CONSUMER_CODE = 1013  # the outbox's close code for a full queue


class Socket(Protocol):
    """What an Outbox writes to (infrastructure/ws_writer.py)."""

    async def send_many(self, texts: list[str]) -> None: ...

    async def close(self, *, code: int, message: bytes) -> bool: ...


@dataclass
class Counts:
    """This process's totals since it started."""

    frames_delivered: int = 0  # written to a socket by an outbox's writer
    closes: Counter[int] = field(default_factory=Counter)  # outbox closes, by close code
    events: Counter[str] = field(default_factory=Counter)  # published, by event type
    messages: Counter[str] = field(default_factory=Counter)  # stored, by kind
    refusals: Counter[str] = field(default_factory=Counter)  # rate-limit refusals, by kind

    @property
    def queue_overflows(self) -> int:
        return self.closes[SLOW_CONSUMER_CODE]


class CountingSocket:
    """What an Outbox writes to: the WebSocket, counting frames sent and closes by code."""

    __slots__ = ("_counts", "_socket")

    def __init__(self, socket: Socket, counts: Counts) -> None:
        self._socket = socket
        self._counts = counts

    def write(self, texts: list[str]) -> bool:
        self._counts.frames_delivered += len(texts)
        return self._socket.write(texts)

    def writable(self) -> Any:
        return self._socket.writable()

    def close(self, *, code: int, message: bytes) -> Any:
        self._counts.closes[code] += 1
        return self._socket.close(code=code, message=message)


class CountingBus:
    """The EventBus port: events published by type; a MessagePosted is a message stored."""

    def __init__(self, bus: EventBus, counts: Counts) -> None:
        self._bus = bus
        self._counts = counts

    async def publish(self, event: RoomEvent) -> None:
        await self._bus.publish(event)
        self._counts.events[type(event).__name__] += 1
        if isinstance(event, MessagePosted):
            self._counts.messages[event.message.kind] += 1


class CountingRateLimiter:
    """The RateLimiter port (messages per user): a refusal is a non-zero wait."""

    def __init__(self, limiter: RateLimiter, counts: Counts, *, kind: str) -> None:
        self._limiter = limiter
        self._counts = counts
        self._kind = kind

    async def acquire(self, key: str) -> int:
        wait = await self._limiter.acquire(key)
        if wait:
            self._counts.refusals[self._kind] += 1
        return wait


class CountingFailureLimiter:
    """The FailureLimiter port (failed logins): a refusal is a login turned away unchecked."""

    def __init__(self, limiter: FailureLimiter, counts: Counts, *, kind: str) -> None:
        self._limiter = limiter
        self._counts = counts
        self._kind = kind

    async def retry_after(self, keys: list[str]) -> int:
        wait = await self._limiter.retry_after(keys)
        if wait:
            self._counts.refusals[self._kind] += 1
        return wait

    async def record_failure(self, keys: list[str]) -> None:
        await self._limiter.record_failure(keys)
