"""Expiries: many sessions' expiries on one timer, in order, renewable, cancellable, and a
closed session's entry does not stay in the heap."""

import asyncio

from chatd.application.expiries import Expiries


class Item:
    def __init__(self, name: str) -> None:
        self.name = name
        self.expires: float | None = None


class Expired(list):
    """The names expired, in order; `count(n)` waits until there are n."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def __call__(self, item: Item) -> None:
        self.append(item.name)
        self.changed.set()

    async def reach(self, n: int) -> None:
        async with asyncio.timeout(10):  # generous: the machine is shared
            while len(self) < n:
                self.changed.clear()
                await self.changed.wait()


async def test_items_expire_in_order_each_once():
    expired = Expired()
    expiries = Expiries(expired)
    for name, delay in [("c", 0.06), ("a", 0.02), ("b", 0.04)]:
        expiries.set(Item(name), delay)
    await expired.reach(3)
    await asyncio.sleep(0.05)
    assert expired == ["a", "b", "c"]


async def test_a_renewal_moves_the_expiry_and_a_cancel_drops_it():
    expired = Expired()
    expiries = Expiries(expired)
    renewed, cancelled, plain = Item("renewed"), Item("cancelled"), Item("plain")
    expiries.set(renewed, 0.01)
    expiries.set(cancelled, 0.01)
    expiries.set(plain, 0.05)
    expiries.set(renewed, 0.1)  # later than plain now
    expiries.cancel(cancelled)
    assert cancelled.expires is None
    await expired.reach(2)
    await asyncio.sleep(0.05)
    assert expired == ["plain", "renewed"]
    assert renewed.expires is None and plain.expires is None


async def test_an_earlier_expiry_set_later_still_comes_first():
    expired = Expired()
    expiries = Expiries(expired)
    expiries.set(Item("late"), 30)
    expiries.set(Item("soon"), 0.01)
    await expired.reach(1)
    assert expired == ["soon"]
    expiries.close()


async def test_cancelled_entries_are_swept_from_the_heap():
    expiries = Expiries(lambda item: None)
    items = [Item(str(n)) for n in range(100)]
    for item in items:
        expiries.set(item, 60)
    for item in items[:80]:
        expiries.cancel(item)
    assert len(expiries._heap) <= 50  # not 100: closed sessions are not kept alive
    assert {entry[2] for entry in expiries._heap} >= set(items[80:])
    expiries.close()
