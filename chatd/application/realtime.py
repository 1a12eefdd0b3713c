"""Real-time use cases that are not stored: typing notices."""

from datetime import datetime, timedelta

from chatd.application.ports import Clock, MembershipReader, TypingGate
from chatd.domain.errors import Forbidden
from chatd.domain.events import UserTyping
from chatd.domain.model import User

TYPING_INTERVAL = timedelta(seconds=2)
FORGET_AFTER = 10_000  # remembered (user, room) pairs before the stale ones are dropped


class Typing:
    """Forward "user is typing" to the room, at most once per user and room per interval, across
    every process (the gate). What this process already knows to be throttled costs nothing."""

    def __init__(
        self,
        *,
        memberships: MembershipReader,
        gate: TypingGate,
        clock: Clock,
        interval: timedelta = TYPING_INTERVAL,
    ) -> None:
        self._memberships = memberships
        self._gate = gate
        self._clock = clock
        self._interval = interval
        self._quiet_until: dict[tuple[int, int], datetime] = {}

    async def typing(self, *, room_id: int, user: User) -> bool:
        """True if forwarded, False if throttled. Forbidden if the user is not a member."""
        now = self._clock.now()
        quiet_until = self._quiet_until.get((user.id, room_id))
        if quiet_until is not None and now < quiet_until:
            return False
        if not await self._memberships.is_member(room_id, user.id):
            raise Forbidden("only members of the room may do this", code="not_a_member")
        self._forget_stale(now)
        wait = await self._gate.forward(
            UserTyping(room_id=room_id, user=user), interval=self._interval
        )
        self._quiet_until[(user.id, room_id)] = now + (wait or self._interval)
        return not wait

    def _forget_stale(self, now: datetime) -> None:
        if len(self._quiet_until) >= FORGET_AFTER:
            self._quiet_until = {k: t for k, t in self._quiet_until.items() if now < t}
