"""One session, how it ends and how it must behave: its close codes, and the rule that closes
a client that keeps sending after being told to slow down."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from chatd.application.delivery import RoomCursor
from chatd.application.ports import Outbox
from chatd.domain.errors import RateLimited
from chatd.domain.model import User

T = TypeVar("T")

UNAUTHENTICATED = 4401  # no valid auth frame; the access token expired; the login ended
POLICY_VIOLATION = 1008  # still sending long after a rate_limited error

PERSISTING_LIMIT = timedelta(seconds=10)  # from the first rate_limited error to 1008
IN_FLIGHT = timedelta(seconds=1)  # frames this soon after the error were sent before it arrived
FORGIVE_AFTER = timedelta(seconds=10)  # of silence, and a persisting client starts afresh


class FloodGuard:
    """One connection's conduct for one limited kind of frame (send_message, join_room).

    After a `rate_limited` error the client must pause until its `retry_after`. Frames that
    arrive within a second of the error were already on their way and are let be. One sent
    later, before the retry time, makes the client *persisting*: from then on a frame of that
    kind 10 s or more after the first error closes the connection (1008), unless the client
    first stayed silent for 10 s. A client that waits as told starts afresh.
    """

    __slots__ = ("_last", "_persisting", "_retry_at", "_since")

    def __init__(self) -> None:
        self._since: datetime | None = None  # the first rate_limited error not yet honoured
        self._retry_at: datetime | None = None
        self._persisting = False
        self._last: datetime | None = None  # the previous frame of this kind

    def may_send(self, now: datetime) -> bool:
        """A frame of this kind arrived: False if the connection must be closed."""
        since, last, self._last = self._since, self._last, now
        if since is None or self._retry_at is None:
            return True
        if not self._persisting:
            if now >= self._retry_at:
                self._since = None  # it waited as told
                return True
            self._persisting = now - since > IN_FLIGHT
        if not self._persisting:
            return True
        if last is not None and now - last >= FORGIVE_AFTER:
            self._since, self._persisting = None, False
            return True
        return now - since < PERSISTING_LIMIT

    def refused(self, now: datetime, retry_after: int) -> None:
        """The frame was answered with rate_limited."""
        if self._since is None:
            self._since, self._persisting = now, False
            self._retry_at = now + timedelta(seconds=retry_after)


@dataclass(eq=False, slots=True)
class Session:
    """One authenticated connection: its user, its outbox and its place in each room."""

    user: User
    outbox: Outbox
    opened_at: datetime  # a login ended after this closes it, even if the bus missed the word
    cursors: dict[int, RoomCursor] = field(default_factory=dict)
    closed: bool = False
    present: bool = False  # counted by Presence
    expires: float | None = None  # loop time the access token expires (see expiries.py)
    # Per limited kind of frame; made by the first such frame (most sockets only listen).
    guards: dict[str, FloodGuard] | None = None
    _lock: asyncio.Lock | None = field(default=None, repr=False)

    @property
    def lock(self) -> asyncio.Lock:
        """Held while this session's membership changes (its own join/leave) and while it
        follows one made elsewhere, so the two never interleave. Made on first use: most
        sessions never change their rooms."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock


async def within_limits(
    session: Session, kind: str, now: datetime, action: Callable[[], Awaitable[T]]
) -> T:
    """Run a frame of a rate-limited kind, unless the client is persisting: then 1008."""
    if session.guards is None:
        session.guards = {}
    guard = session.guards.get(kind)
    if guard is None:
        guard = session.guards[kind] = FloodGuard()
    if not guard.may_send(now):
        await session.outbox.close(
            code=POLICY_VIOLATION, message=b"still sending after rate_limited"
        )
        raise RateLimited("still sending after rate_limited", retry_after=0)
    try:
        return await action()
    except RateLimited as error:
        guard.refused(now, error.retry_after)
        raise
