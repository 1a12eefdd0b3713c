"""Rooms and Messaging against fakes: rules, membership, events after commit, idempotency."""

import pytest

from chatd.application.messages import Messaging
from chatd.application.rooms import Rooms
from chatd.domain.errors import Forbidden, InvalidInput, NotFound, RateLimited
from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted
from chatd.domain.model import User
from tests.fake_rooms import FakeMessageRepo, FakeRoomRepo
from tests.fake_streams import FakePresenceStore, InMemoryBus, PresenceWorld
from tests.fakes import ALICE, BOB, EPOCH, FakeClock, FakeRateLimiter


def make_rooms(store: FakeRoomRepo, bus: InMemoryBus, **ports) -> Rooms:
    """Rooms with no limits and nobody online, unless `ports` say otherwise."""
    presence = FakePresenceStore(PresenceWorld(bus, FakeClock()))
    defaults = {"presence": presence, "creations": FakeRateLimiter(), "joins": FakeRateLimiter()}
    return Rooms(rooms=store, bus=bus, **(defaults | ports))


@pytest.fixture
def store() -> FakeRoomRepo:
    return FakeRoomRepo()


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def rooms(store, bus) -> Rooms:
    return make_rooms(store, bus)


@pytest.fixture
def messaging(store, bus) -> Messaging:
    return Messaging(messages=FakeMessageRepo(store), rooms=store, bus=bus, sends=FakeRateLimiter())


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


async def test_post_stores_trimmed_body_and_publishes_it(rooms, messaging, store, bus):
    room = await rooms.create(owner=ALICE, name="general")
    bus.events.clear()  # the creation's own MemberJoined is not under test here
    message, created = await messaging.post(room_id=room.id, author=ALICE, body="  hello \n")
    assert created and (message.body, message.seq, message.kind) == ("hello", 1, "user")
    assert bus.events == [MessagePosted(message)]


async def test_same_client_id_returns_the_first_message_and_publishes_once(
    rooms, messaging, store, bus
):
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    first, created = await messaging.post(room_id=room.id, author=ALICE, body="a", client_id="c1")
    again, repeated = await messaging.post(room_id=room.id, author=ALICE, body="b", client_id="c1")
    other, by_bob = await messaging.post(room_id=room.id, author=BOB, body="c", client_id="c1")
    assert (created, repeated, by_bob) == (True, False, True)
    assert again == first and other != first
    assert [m.body for m in store.messages] == ["bob joined", "a", "c"]
    assert [e.message for e in bus.events if isinstance(e, MessagePosted)] == [
        store.messages[0],
        first,
        other,
    ]


async def test_nothing_is_published_when_the_transaction_fails(rooms, messaging, store, bus):
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    published_before = list(bus.events)
    store.fail_writes = True
    for call in (
        messaging.post(room_id=room.id, author=ALICE, body="lost"),
        rooms.join(room_id=room.id, user=User(3, "carol", EPOCH)),
        rooms.leave(room_id=room.id, user=BOB),
    ):
        with pytest.raises(ConnectionError):
            await call
    assert bus.events == published_before


async def test_events_are_published_only_once_the_change_is_stored(store):
    def stored_already(event):
        if isinstance(event, MessagePosted):
            assert event.message in store.messages
        if isinstance(event, MemberJoined):
            assert event.user.id in store.memberships[event.room_id]

    bus = InMemoryBus(on_publish=stored_already)
    rooms = make_rooms(store, bus)
    messaging = Messaging(
        messages=FakeMessageRepo(store), rooms=store, bus=bus, sends=FakeRateLimiter()
    )
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    await messaging.post(room_id=room.id, author=BOB, body="hi")
    assert len(bus.events) == 4  # create, join (event and system message), post


@pytest.mark.parametrize(
    ("body", "client_id", "code"),
    [
        ("", None, "empty_body"),
        (" \n\t ", None, "empty_body"),
        ("x" * 4001, None, "body_too_long"),
        (None, None, "invalid_field"),
        ("hi", "", "invalid_client_id"),
        ("hi", "c" * 65, "invalid_client_id"),
        ("hi", 5, "invalid_field"),
        ("\ud800", None, "bad_text"),
    ],
)
async def test_post_rejects_bad_bodies_and_client_ids(
    rooms, messaging, store, body, client_id, code
):
    room = await rooms.create(owner=ALICE, name="general")
    with pytest.raises(InvalidInput) as error:
        await messaging.post(room_id=room.id, author=ALICE, body=body, client_id=client_id)
    assert error.value.code == code
    assert store.messages == []


async def test_a_body_of_4000_characters_after_trimming_is_accepted(rooms, messaging):
    room = await rooms.create(owner=ALICE, name="general")
    message, _ = await messaging.post(room_id=room.id, author=ALICE, body=f"  {'x' * 4000}  ")
    assert len(message.body) == 4000


async def test_history_pages(rooms, messaging):
    room = await rooms.create(owner=ALICE, name="general")
    for n in range(1, 8):
        await messaging.post(room_id=room.id, author=ALICE, body=str(n))

    async def seqs(**cursor) -> list[int]:
        page = await messaging.history(room_id=room.id, reader=ALICE, **cursor)
        return [m.seq for m in page]

    assert await seqs(limit=3) == [5, 6, 7]
    assert await seqs(before_seq=5, limit=3) == [2, 3, 4]
    assert await seqs(after_seq=5) == [6, 7]
    assert await seqs(after_seq=1, before_seq=4) == [2, 3]


@pytest.mark.parametrize("limit", [0, -1, 201])
async def test_history_limit_is_1_to_200(rooms, messaging, limit):
    room = await rooms.create(owner=ALICE, name="general")
    with pytest.raises(InvalidInput) as error:
        await messaging.history(room_id=room.id, reader=ALICE, limit=limit)
    assert error.value.code == "invalid_limit"


async def test_posting_past_the_rate_limit_is_refused_and_stores_nothing(rooms, store, bus):
    sends = FakeRateLimiter(limit=2, retry_after_seconds=7)
    messaging = Messaging(messages=FakeMessageRepo(store), rooms=store, bus=bus, sends=sends)
    room = await rooms.create(owner=ALICE, name="general")
    for body in ("one", "two"):
        await messaging.post(room_id=room.id, author=ALICE, body=body)
    with pytest.raises(RateLimited) as caught:
        await messaging.post(room_id=room.id, author=ALICE, body="three")
    assert caught.value.retry_after == 7
    assert [m.body for m in store.messages] == ["one", "two"]
    assert sends.counts == {f"send:{ALICE.id}": 3}


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
