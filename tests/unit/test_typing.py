"""Typing: forwarded to the room, never stored, once per user and room every 2 s."""

import pytest

from chatd.application.realtime import Typing
from chatd.domain.errors import Forbidden
from chatd.domain.events import UserTyping
from chatd.infrastructure.memory_bus import InMemoryBus
from tests.fakes import FakeClock
from tests.realtime_fakes import ALICE, BOB


class Members:
    def __init__(self, *pairs: tuple[int, int]) -> None:
        self.pairs = set(pairs)

    async def room_ids_of(self, user_id: int) -> list[int]:
        return [room for room, user in self.pairs if user == user_id]

    async def is_member(self, room_id: int, user_id: int) -> bool:
        return (room_id, user_id) in self.pairs


@pytest.fixture
def world():
    bus, clock, events = InMemoryBus(), FakeClock(), []
    bus.listen(events.append)
    typing = Typing(memberships=Members((1, ALICE.id), (1, BOB.id)), bus=bus, clock=clock)
    return typing, clock, events


async def test_typing_is_throttled_per_user_and_room(world):
    typing, clock, events = world
    assert await typing.typing(room_id=1, user=ALICE)
    assert not await typing.typing(room_id=1, user=ALICE)
    assert await typing.typing(room_id=1, user=BOB)
    clock.advance(1.9)
    assert not await typing.typing(room_id=1, user=ALICE)
    clock.advance(0.2)
    assert await typing.typing(room_id=1, user=ALICE)
    assert events == [
        UserTyping(room_id=1, user=ALICE),
        UserTyping(room_id=1, user=BOB),
        UserTyping(room_id=1, user=ALICE),
    ]


async def test_only_members_may_type(world):
    typing, _, events = world
    with pytest.raises(Forbidden):
        await typing.typing(room_id=2, user=ALICE)
    assert events == []
