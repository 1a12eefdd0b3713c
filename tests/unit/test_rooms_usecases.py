"""Rooms against fakes: rules, membership, events after commit, limits, who is online."""

import pytest

from chatd.domain.errors import Forbidden, InvalidInput, NotFound, RateLimited
from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted
from tests.fake_streams import FakePresenceStore, PresenceWorld
from tests.fakes import ALICE, BOB, FakeClock, FakeRateLimiter
from tests.unit.conftest import make_rooms


async def test_create_makes_the_creator_owner_and_posts_nothing(rooms, store, bus):
    room = await rooms.create(owner=ALICE, name="  general  ", topic=" chat ")
    assert (room.name, room.topic, room.owner_id, room.member_count) == ("general", "chat", 1, 1)
    assert [(m.user, m.role) for m in await store.members(room.id)] == [(ALICE, "owner")]
    # No system message; the one event tells the owner's open connections to follow the room.
    assert store.messages == []
    assert bus.events == [MemberJoined(room_id=room.id, user=ALICE)]


@pytest.mark.parametrize(
    ("name", "topic", "code"),
    [
        ("", None, "invalid_room_name"),
        ("   ", None, "invalid_room_name"),
        ("x" * 101, None, "invalid_room_name"),
        ("ok", "t" * 501, "invalid_topic"),
        ("nul\x00", None, "bad_text"),
        (7, None, "invalid_field"),
    ],
)
async def test_create_rejects_bad_names_and_topics(rooms, name, topic, code):
    with pytest.raises(InvalidInput) as error:
        await rooms.create(owner=ALICE, name=name, topic=topic)
    assert error.value.code == code


async def test_join_twice_is_one_membership_one_message_one_pair_of_events(rooms, store, bus):
    room = await rooms.create(owner=ALICE, name="general")
    bus.events.clear()  # the creation's own MemberJoined is not under test here
    first = await rooms.join(room_id=room.id, user=BOB)
    again = await rooms.join(room_id=room.id, user=BOB)
    assert first.member_count == again.member_count == 2
    assert [(m.kind, m.seq, m.body, m.author) for m in store.messages] == [
        ("system", 1, "bob joined", None)
    ]
    assert bus.events == [MemberJoined(room.id, BOB), MessagePosted(store.messages[0])]


async def test_leave_posts_a_system_message_then_the_event(rooms, store, bus):
    room = await rooms.create(owner=ALICE, name="general")
    bus.events.clear()  # the creation's own MemberJoined is not under test here
    await rooms.leave(room_id=room.id, user=ALICE)
    assert [m.body for m in store.messages] == ["alice left"]
    assert bus.events == [MessagePosted(store.messages[0]), MemberLeft(room.id, ALICE)]
    assert (await rooms.get(room_id=room.id)).member_count == 0, "the room stays"
    await rooms.leave(room_id=room.id, user=ALICE)
    assert len(store.messages) == 1 and len(bus.events) == 2, "leaving again changes nothing"


async def test_owner_rejoining_is_owner_again(rooms, store):
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.leave(room_id=room.id, user=ALICE)
    await rooms.join(room_id=room.id, user=ALICE)
    assert [m.role for m in await store.members(room.id)] == ["owner"]


async def test_unknown_rooms_are_not_found(rooms, messaging):
    calls = [
        rooms.get(room_id=9),
        rooms.join(room_id=9, user=ALICE),
        rooms.leave(room_id=9, user=ALICE),
        rooms.members(room_id=9, viewer=ALICE),
        messaging.post(room_id=9, author=ALICE, body="hi"),
        messaging.history(room_id=9, reader=ALICE),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            await call


async def test_non_members_may_not_read_post_or_list_members(rooms, messaging, store):
    room = await rooms.create(owner=ALICE, name="general")
    calls = [
        messaging.post(room_id=room.id, author=BOB, body="hi"),
        messaging.history(room_id=room.id, reader=BOB),
        rooms.members(room_id=room.id, viewer=BOB),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            await call
    assert store.messages == []


async def test_list_is_newest_first_with_joined(rooms):
    first = await rooms.create(owner=ALICE, name="one")
    second = await rooms.create(owner=BOB, name="two")
    page = await rooms.list_rooms(viewer=ALICE)
    assert [(room.id, joined) for room, joined in page] == [(second.id, False), (first.id, True)]
    assert await rooms.list_rooms(viewer=ALICE, limit=1, before_id=second.id) == [(first, True)]


async def test_creating_rooms_past_the_limit_is_refused_per_user(store, bus):
    creations = FakeRateLimiter(limit=2, retry_after_seconds=3000)
    rooms = make_rooms(store, bus, creations=creations)
    for name in ("one", "two"):
        await rooms.create(owner=ALICE, name=name)
    with pytest.raises(RateLimited) as caught:
        await rooms.create(owner=ALICE, name="three")
    assert caught.value.retry_after == 3000
    await rooms.create(owner=BOB, name="bob's")
    assert sorted(room.name for room in store.rooms.values()) == ["bob's", "one", "two"]
    with pytest.raises(InvalidInput):  # an invalid name is refused before it is counted
        await rooms.create(owner=BOB, name="")
    assert creations.counts == {f"create_room:{ALICE.id}": 3, f"create_room:{BOB.id}": 1}


async def test_joining_past_the_limit_is_refused_and_changes_nothing(store, bus):
    rooms = make_rooms(store, bus, joins=FakeRateLimiter(limit=1, retry_after_seconds=40))
    first = await rooms.create(owner=ALICE, name="one")
    second = await rooms.create(owner=ALICE, name="two")
    await rooms.join(room_id=first.id, user=BOB)
    with pytest.raises(RateLimited) as caught:
        await rooms.join(room_id=second.id, user=BOB)
    assert caught.value.retry_after == 40
    assert BOB.id not in store.memberships[second.id]
    await rooms.join(room_id=second.id, user=ALICE)  # others are not affected


async def test_members_say_who_is_online(store, bus):
    world = PresenceWorld(bus, FakeClock())
    here = FakePresenceStore(world)
    rooms = make_rooms(store, bus, presence=here)
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    await here.renew()
    await here.claim(BOB, [])
    members = await rooms.members(room_id=room.id, viewer=ALICE)
    assert [(m.user, m.online) for m in members] == [(ALICE, False), (BOB, True)]
