"""Typing: forwarded to the room, never stored, once per user and room every 2 s."""

import pytest

from chatd.application.realtime import Typing
from chatd.domain.errors import Forbidden
from chatd.domain.events import UserTyping
from tests.fake_rooms import FakeRoomRepo
from tests.fake_streams import InMemoryBus
from tests.fakes import ALICE, BOB, FakeClock


@pytest.fixture
def world():
    bus, clock, members = InMemoryBus(), FakeClock(), FakeRoomRepo()
    members.enroll(1, ALICE)
    members.enroll(1, BOB)
    return Typing(memberships=members, bus=bus, clock=clock), clock, bus.events


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
