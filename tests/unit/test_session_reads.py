"""The read frame in the Sessions use case: a marker moved on one connection reaches every
connection of the user (this one too) through the user's channel, and nobody else's."""

from collections.abc import AsyncIterator

import pytest

from chatd.domain.errors import NotFound
from tests.fakes import ALICE, BOB
from tests.sessions_world import World, frames


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World()
    yield world
    await world.aclose()


async def test_a_moved_marker_reaches_every_connection_of_the_user(world):
    for user in (ALICE, BOB):
        world.members.enroll(5, user)
    await world.post(5, 3)
    phone, laptop, alices = await world.open(BOB), await world.open(BOB), await world.open(ALICE)
    assert await world.sessions.mark_read(phone, room_id=5, seq=2) == 2
    assert await world.sessions.mark_read(laptop, room_id=5, seq=1) == 2  # backwards: no-op
    for session in (phone, laptop):
        assert [f for f in frames(session) if f["type"] == "read"] == [
            {"type": "read", "room_id": 5, "seq": 2}
        ]
    assert [f for f in frames(alices) if f["type"] == "read"] == []
    with pytest.raises(NotFound):  # no room 6 here
        await world.sessions.mark_read(phone, room_id=6, seq=1)
