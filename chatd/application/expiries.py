"""Every open session's access-token expiry on one timer of the event loop.

A `call_later` per socket costs a TimerHandle, its arguments and a copied context (some 300
bytes on every idle socket); here a socket costs a heap entry, and only the earliest expiry is
on the loop. Renewing or closing a session leaves its old entry in the heap, stale: skipped when
it comes up, and swept once stale entries are half the heap, so closed sessions are not kept.
"""

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar


class Expiring(Protocol):
    expires: float | None  # the loop time of its expiry; None: none (closed)


T = TypeVar("T", bound=Expiring)


class Expiries(Generic[T]):
    def __init__(self, on_expired: Callable[[T], None]) -> None:
        self._on_expired = on_expired
        self._heap: list[tuple[float, int, T]] = []
        self._order = itertools.count()  # ties: first set, first expired (as call_later)
        self._stale = 0
        self._timer: asyncio.TimerHandle | None = None

    def set(self, item: T, delay: float) -> None:
        """Expire `item` in `delay` seconds, instead of when it was set to before."""
        loop = asyncio.get_running_loop()
        self.cancel(item)
        item.expires = when = loop.time() + delay
        heapq.heappush(self._heap, (when, next(self._order), item))
        if self._timer is None or when < self._timer.when():
            self._schedule(loop)

    def cancel(self, item: T) -> None:
        if item.expires is None:
            return
        item.expires = None
        self._stale += 1
        if self._stale > len(self._heap) // 2:  # sweep: closed sessions go with their entries
            self._heap = [entry for entry in self._heap if entry[2].expires == entry[0]]
            heapq.heapify(self._heap)
            self._stale = 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._heap:
            self._timer = loop.call_at(self._heap[0][0], self._due)

    def _due(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        try:  # (self._heap each time: a callback's cancel may sweep it into a new list)
            while self._heap and self._heap[0][0] <= now:
                when, _, item = heapq.heappop(self._heap)
                if item.expires != when:
                    self._stale = max(0, self._stale - 1)  # renewed or closed since
                    continue
                item.expires = None
                self._on_expired(item)
        finally:  # (even if a callback failed: the others still expire)
            self._schedule(loop)
