"""Messaging against fakes: posting, idempotency, events after commit, history, the rate limit."""

import pytest

from chatd.application.messages import Messaging
from chatd.domain.errors import InvalidInput, RateLimited
from chatd.domain.events import MemberJoined, MessagePosted
from chatd.domain.model import User
from tests.fake_rooms import FakeMessageRepo
from tests.fake_streams import InMemoryBus
from tests.fakes import ALICE, BOB, EPOCH, FakeRateLimiter
from tests.unit.conftest import make_rooms


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
