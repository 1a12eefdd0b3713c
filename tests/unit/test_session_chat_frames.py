"""The chat features' frames of a session: a read marker moved on one connection reaches every
connection of the user (this one too) through the user's channel, and nobody else's; edits and
deletes count with the session's sends."""

from collections.abc import AsyncIterator

import pytest

from chatd.domain.errors import NotFound, RateLimited
from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.model import Room
from tests.fakes import ALICE, BOB, EPOCH, FakeRateLimiter
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
    assert await world.sessions.chat.mark_read(phone, room_id=5, seq=2) == 2
    assert await world.sessions.chat.mark_read(laptop, room_id=5, seq=1) == 2  # backwards: no-op
    for session in (phone, laptop):
        assert [f for f in frames(session) if f["type"] == "read"] == [
            {"type": "read", "room_id": 5, "seq": 2}
        ]
    assert [f for f in frames(alices) if f["type"] == "read"] == []
    with pytest.raises(NotFound):  # no room 6 here
        await world.sessions.chat.mark_read(phone, room_id=6, seq=1)


async def test_edit_and_delete_frames_share_the_sends_limit():
    world = World(sends=FakeRateLimiter(limit=2))
    try:
        world.members.rooms[5] = Room(5, "general", "", ALICE.id, EPOCH, 1)
        world.members.enroll(5, ALICE)
        [message] = world.db.post(5, 1)  # alice's
        session = await world.open(ALICE)
        edited = await world.sessions.chat.edit_message(session, room_id=5, seq=1, body="v2")
        assert world.bus.events[-1] == edited == MessageEdited(5, 2, 1, "v2", edited.edited_at)
        await world.sessions.chat.delete_message(session, room_id=5, seq=message.seq)
        assert world.bus.events[-1] == MessageDeleted(5, 3, 1)
        with pytest.raises(RateLimited):
            await world.sessions.chat.edit_message(session, room_id=5, seq=1, body="v3")
        assert "send_message" in session.guards  # the flood guard of sends counts it
    finally:
        await world.aclose()
