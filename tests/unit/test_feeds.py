"""RoomFeed: whatever order and holes Pub/Sub delivers in, connections get seq+1 each time."""

import asyncio
import json

import pytest

from chatd.application.frames import message_frame
from chatd.domain.errors import Unavailable
from chatd.domain.events import MemberJoined, MemberLeft, MessagePosted, UserTyping
from chatd.infrastructure.channels import bus_payload, read_payload
from chatd.infrastructure.feeds import RoomFeed
from tests.fake_rooms import FakeMessageRepo
from tests.fake_streams import FakeOutbox, until
from tests.fakes import ALICE

ROOM = 7


def confirmed() -> asyncio.Future[None]:
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


async def started_feed(db: FakeMessageRepo, **options) -> tuple[RoomFeed, FakeOutbox]:
    feed = RoomFeed(ROOM, messages=db, **options)
    await feed.start(confirmed())
    outbox = FakeOutbox(ALICE)
    feed.add(outbox, hold=False)
    return feed, outbox


def stored(db: FakeMessageRepo, seq: int):
    [message] = [m for m in db.store.messages if (m.room_id, m.seq) == (ROOM, seq)]
    return message


def publish(feed: RoomFeed, db: FakeMessageRepo, *seqs: int) -> None:
    """Pub/Sub delivering these seqs (already stored) in this order."""
    for seq in seqs:
        feed.on_frame(read_payload(bus_payload(MessagePosted(stored(db, seq)))))


def seqs_sent(outbox: FakeOutbox) -> list[int]:
    return [json.loads(text)["message"]["seq"] for text in outbox.sent]


async def test_in_order_frames_go_straight_out_without_the_database():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    db.post(ROOM, 3)
    reads = db.reads
    publish(feed, db, 1, 2, 3)
    assert seqs_sent(outbox) == [1, 2, 3]
    assert db.reads == reads


async def test_duplicates_and_old_frames_are_dropped():
    db = FakeMessageRepo()
    db.post(ROOM, 2)
    feed, outbox = await started_feed(db)
    db.post(ROOM, 2)
    publish(feed, db, 1, 2, 3, 3, 2, 4, 4)
    assert seqs_sent(outbox) == [3, 4]


async def test_a_hole_is_filled_from_the_database_in_order():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    db.post(ROOM, 6)
    publish(feed, db, 1, 5, 2, 6)  # 3 and 4 were lost by Pub/Sub
    await until(lambda: len(outbox.sent) == 6)
    assert seqs_sent(outbox) == [1, 2, 3, 4, 5, 6]


async def test_frames_arriving_during_a_fill_wait_their_turn():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    db.post(ROOM, 3)
    publish(feed, db, 3)  # starts a fill for 1..2
    db.post(ROOM, 2)
    publish(feed, db, 5, 4)
    await until(lambda: len(outbox.sent) == 5)
    assert seqs_sent(outbox) == [1, 2, 3, 4, 5]


async def test_a_check_after_a_reconnect_fetches_what_pubsub_lost():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    db.post(ROOM, 4)  # all published while the bus was away
    feed.check()
    await until(lambda: len(outbox.sent) == 4)
    assert seqs_sent(outbox) == [1, 2, 3, 4]


async def test_frames_before_start_wait_and_stale_ones_are_dropped():
    db = FakeMessageRepo()
    db.post(ROOM, 3)
    feed = RoomFeed(ROOM, messages=db)
    publish(feed, db, 2, 3)
    db.post(ROOM, 1)
    publish(feed, db, 4)
    await feed.start(confirmed())
    # last_seq was read as 4: 2, 3, 4 are history for anyone who starts now
    assert feed.last_seq == 4


async def test_a_failing_database_is_retried():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db, fill_retry=0.001)
    db.post(ROOM, 3)
    db.fail = 2
    publish(feed, db, 3)
    await until(lambda: len(outbox.sent) == 3)
    assert seqs_sent(outbox) == [1, 2, 3]


async def test_a_hole_that_never_fills_is_stepped_over():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db, fill_retry=0.001, fill_patience=0.01)
    db.post(ROOM, 3)
    third = message_frame(stored(db, 3))
    db.lose(ROOM, 2)
    feed.on_message(3, third)
    await until(lambda: len(outbox.sent) == 2)
    assert seqs_sent(outbox) == [1, 3]


@pytest.mark.parametrize("kind", ["join_room", "leave_room"])
async def test_membership_frames_go_to_everyone_typing_to_the_others(kind):
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    event = MemberJoined if kind == "join_room" else MemberLeft
    change = read_payload(bus_payload(event(room_id=ROOM, user=ALICE)))
    feed.on_frame(change)
    feed.on_frame(read_payload(bus_payload(UserTyping(room_id=ROOM, user=ALICE))))
    assert outbox.sent == [change.text]  # alice does not get her own typing


async def test_frames_past_the_pending_limit_are_read_from_the_database():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db, pending_limit=3)
    db.post(ROOM, 10)
    publish(feed, db, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # 1 lost; only 3 of these are held
    assert len(feed._pending) <= 3
    await until(lambda: len(outbox.sent) == 10)
    assert seqs_sent(outbox) == list(range(1, 11))


async def test_a_check_during_a_running_fill_makes_it_read_again():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    db.post(ROOM, 3)
    publish(feed, db, 3)  # a fill starts for 1..2
    await asyncio.sleep(0)  # its query has started: it will not see what is stored now
    db.post(ROOM, 2)  # published while the bus was away
    feed.check()
    await until(lambda: len(outbox.sent) == 5)
    assert seqs_sent(outbox) == [1, 2, 3, 4, 5]


async def test_a_failed_start_reaches_every_waiter():
    db = FakeMessageRepo()
    db.last_seq = None  # type: ignore[assignment]  # calling it raises TypeError
    feed = RoomFeed(ROOM, messages=db)
    waiter = asyncio.create_task(feed.ready())
    with pytest.raises(TypeError):
        await feed.start(confirmed())
    with pytest.raises(TypeError):
        await waiter
    assert not feed.is_ready


async def test_a_cancelled_start_is_unavailable_to_waiters():
    feed = RoomFeed(ROOM, messages=FakeMessageRepo())
    never = asyncio.get_running_loop().create_future()
    starting = asyncio.create_task(feed.start(never))
    waiter = asyncio.create_task(feed.ready())
    await asyncio.sleep(0)  # one step: both tasks are now waiting
    starting.cancel()
    with pytest.raises(Unavailable):
        await waiter
    assert not feed.is_ready
