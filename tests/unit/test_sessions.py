"""Sessions against fakes, through the in-process fan-out: which rooms a connection streams,
following membership changes made elsewhere, resume and resync."""

from collections.abc import AsyncIterator

import pytest

from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted, UserTyping
from chatd.infrastructure.channels import bus_payload, read_payload, room_channel, user_channel
from tests.fake_streams import until
from tests.fakes import ALICE, BOB
from tests.sessions_world import LIMIT, World, frames, seqs, types


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World()
    yield world
    await world.aclose()


async def test_channels_follow_the_first_and_last_local_interest(world):
    world.members.enroll(5, ALICE)
    first, second = await world.open(), await world.open()
    assert world.bus.channels == {user_channel(ALICE.id), room_channel(5)}
    world.sessions.close(first)
    assert world.bus.channels == {user_channel(ALICE.id), room_channel(5)}
    world.sessions.close(second)
    assert world.bus.channels == frozenset()


async def test_open_streams_every_room_of_the_user_then_says_ready(world):
    world.members.enroll(5, ALICE)
    world.members.enroll(6, ALICE)
    session = await world.open()
    await world.post(5, 3)
    await world.bus.publish(UserTyping(room_id=5, user=BOB))
    assert frames(session)[0] == {
        "type": "ready",
        "user": {"id": 1, "username": "alice", "created_at": ALICE.created_at.isoformat()},
        "rooms": [5, 6],
    }
    assert seqs(session) == [1, 2, 3] and types(session)[-1] == "typing"


async def test_a_join_elsewhere_starts_the_room_on_every_connection_of_the_user(world):
    sessions = [await world.open(), await world.open()]
    world.members.enroll(9, ALICE)
    await world.bus.publish(MemberJoined(room_id=9, user=ALICE))
    await until(lambda: all(9 in s.cursors for s in sessions))
    await world.post(9)
    for session in sessions:
        assert types(session) == ["ready", "join_room", "new_message"]


async def test_an_own_join_is_not_checked_again_when_its_event_comes_back(world):
    session = await world.open()
    room = await world.members.add(name="bob's", topic="", owner=BOB)
    await world.sessions.join(session, room.id)
    assert room.id in session.cursors
    await world.post(room.id)
    assert world.members.membership_checks == 0, "the join_room event changed nothing here"
    assert types(session) == ["ready", "join_room", "system_message", "new_message"]


async def test_replay_sends_the_missed_then_the_live_ones(world):
    world.members.enroll(5, ALICE)
    world.db.post(5, 10)
    [live] = world.db.post(5, 1)
    # 11 is published while the replay reads the database: held, then sent once, in order.
    envelope = read_payload(bus_payload(MessagePosted(live)))
    world.db.on_read = lambda: world.fanout.on_room_frame(envelope)
    session = await world.open(resume={5: 7})
    await world.post(5)
    assert seqs(session) == [8, 9, 10, 11, 12]


async def test_exactly_the_limit_missed_is_replayed(world):
    world.members.enroll(5, ALICE)
    world.db.post(5, 2 + LIMIT)
    session = await world.open(resume={5: 2})
    assert seqs(session) == list(range(3, 3 + LIMIT))


async def test_one_past_the_limit_is_a_resync_and_the_stream_goes_on_live(world):
    world.members.enroll(5, ALICE)
    world.db.post(5, 1 + LIMIT)
    session = await world.open(resume={5: 0})
    await world.post(5)
    assert types(session) == ["ready", "resync_required", "new_message"]
    assert seqs(session) == [LIMIT + 2]


async def test_a_bus_reconnect_checks_every_room(world):
    world.members.enroll(5, ALICE)
    session = await world.open()
    world.db.post(5, 3)  # published while the bus was away
    world.fanout.on_reconnected()
    await until(lambda: len(seqs(session)) == 3)
    assert seqs(session) == [1, 2, 3]


async def test_a_bus_reconnect_follows_the_joins_and_leaves_it_missed(world):
    """Their notices were published while the bus was away, and lost with it."""
    world.members.enroll(5, ALICE)
    session = await world.open()
    world.members.expel(5, ALICE)
    world.members.enroll(9, ALICE)
    world.fanout.on_reconnected()
    await until(lambda: set(session.cursors) == {9})
    await world.post(5)
    await world.post(9)
    assert types(session) == ["ready", "join_room", "new_message"]
    assert frames(session)[1] == {
        "type": "join_room",
        "room_id": 9,
        "user": {"id": 1, "username": "alice", "created_at": ALICE.created_at.isoformat()},
    }


async def test_a_resume_position_past_the_end_means_up_to_date(world):
    world.members.enroll(5, ALICE)
    world.db.post(5, 3)
    session = await world.open(resume={5: 1_000_000})
    await world.post(5)
    assert seqs(session) == [4]


async def test_a_resume_frame_sends_only_what_this_connection_was_never_sent(world):
    world.members.enroll(5, ALICE)
    world.db.post(5, 5)
    session = await world.open()  # streams from seq 5 on
    await world.post(5, 2)
    await world.sessions.resume(session, {5: 2}, ref=1)  # the client had 2: 3..5 were never sent
    await world.sessions.resume(session, {5: 2}, ref=2)  # asking again sends nothing twice
    await world.post(5)
    assert seqs(session) == [6, 7, 3, 4, 5, 8]
    assert types(session).count("resumed") == 2


async def test_resuming_a_room_one_is_not_in_is_refused(world):
    session = await world.open(resume={9: 0})
    assert frames(session)[1] == {
        "type": "error",
        "ref": 7,
        "code": "not_a_member",
        "message": "not a member of room 9",
    }


async def test_a_leave_elsewhere_stops_the_room_once_the_database_agrees(world):
    world.members.enroll(9, ALICE)
    session = await world.open()
    world.members.expel(9, ALICE)
    await world.bus.publish(MemberLeft(room_id=9, user=ALICE))
    await until(lambda: 9 not in session.cursors)
    await world.post(9)
    assert seqs(session) == []


async def test_late_membership_events_do_not_undo_a_rejoin(world):
    """leave, then join again at once: the user channel's leave_room (and join_room) arrive
    after the rejoin. The connection must keep its stream, with no gap."""
    world.members.enroll(9, ALICE)
    session = await world.open()
    await world.post(9)
    await world.bus.publish(MemberLeft(room_id=9, user=ALICE))  # stale: she is a member again
    await world.post(9)
    await world.bus.publish(MemberJoined(room_id=9, user=ALICE))
    await world.post(9)
    await until(lambda: world.members.membership_checks == 1)  # the leave was checked, and done
    assert 9 in session.cursors
    assert seqs(session) == [1, 2, 3]


async def test_a_join_event_for_a_room_left_since_is_ignored(world):
    session = await world.open()
    await world.bus.publish(MemberJoined(room_id=9, user=ALICE))  # she left again meanwhile
    await until(lambda: world.members.membership_checks == 1)  # checked, and done
    assert 9 not in session.cursors and types(session) == ["ready"]
