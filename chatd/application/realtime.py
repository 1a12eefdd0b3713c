"""Real-time use cases that are not stored: typing notices."""

from datetime import datetime, timedelta

from chatd.application.ports import Clock, EventBus, MembershipReader
from chatd.domain.errors import Forbidden
from chatd.domain.events import UserTyping
from chatd.domain.model import User

TYPING_INTERVAL = timedelta(seconds=2)
FORGET_AFTER = 10_000  # remembered (user, room) pairs before the stale ones are dropped


class Typing:
    """Forward "user is typing" to the room, at most once per user and room per interval."""

    def __init__(
        self,
        *,
        memberships: MembershipReader,
        bus: EventBus,
        clock: Clock,
        interval: timedelta = TYPING_INTERVAL,
    ) -> None:
        self._memberships = memberships
        self._bus = bus
        self._clock = clock
        self._interval = interval
        self._last: dict[tuple[int, int], datetime] = {}

    async def typing(self, *, room_id: int, user: User) -> bool:
        """True if forwarded, False if throttled. Forbidden if the user is not a member."""
        now = self._clock.now()
        last = self._last.get((user.id, room_id))
        if last is not None and now - last < self._interval:
            return False
        if not await self._memberships.is_member(room_id, user.id):
            raise Forbidden("only members of the room may do this", code="not_a_member")
        self._forget_stale(now)
        self._last[(user.id, room_id)] = now
        await self._bus.publish(UserTyping(room_id=room_id, user=user))
        return True

    def _forget_stale(self, now: datetime) -> None:
        if len(self._last) >= FORGET_AFTER:
            self._last = {k: t for k, t in self._last.items() if now - t < self._interval}
