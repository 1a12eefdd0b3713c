"""Which (S)SUBSCRIBE a confirmation from Redis answers.

Redis confirms every SUBSCRIBE of a channel once, in the order the commands were sent, so the
n-th confirmation of a channel answers its n-th SUBSCRIBE. Matching them in that order matters
when a channel is dropped and asked for again quickly (SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBE): the
first confirmation must not answer the second SUBSCRIBE, whose caller would otherwise read the
room's position from the database while the channel is about to be unsubscribed, and miss what
is published before the second SUBSCRIBE holds.
"""

import asyncio
from collections import deque
from collections.abc import Iterable


class Confirmations:
    def __init__(self) -> None:
        # Per channel, oldest first: the callers waiting on each SUBSCRIBE not yet confirmed.
        self._waiting: dict[str, deque[list[asyncio.Future[None]]]] = {}

    def expect(self, channel: str) -> asyncio.Future[None]:
        """A SUBSCRIBE of `channel` is about to be sent: the future its confirmation resolves."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(channel, deque()).append([future])
        return future

    def confirmed(self, channel: str) -> None:
        """Redis confirmed a SUBSCRIBE of `channel`: answer the oldest one waiting."""
        waiting = self._waiting.get(channel)
        if not waiting:
            return
        for future in waiting.popleft():
            if not future.done():
                future.set_result(None)
        if not waiting:
            del self._waiting[channel]

    def resubscribing(self, channels: Iterable[str], *, drop_others: bool = False) -> None:
        """A new connection subscribes `channels` again, one confirmation each; the commands
        not yet confirmed went with the old connection. Each channel's confirmation now answers
        everyone still waiting on it. `drop_others`: the old connection carried every channel,
        so waiters on channels no longer wanted are dropped (they time out)."""
        before = self._waiting
        if drop_others:
            self._waiting = {}
        for channel in channels:
            entries = before.pop(channel, ())
            self._waiting[channel] = deque([[future for entry in entries for future in entry]])
