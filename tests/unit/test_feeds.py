"""RoomFeed: whatever order and holes Pub/Sub delivers in, connections get seq+1 each time."""

import asyncio
import itertools

import pytest

from chatd.domain.errors import Unavailable
from chatd.infrastructure import feeds
from chatd.infrastructure.connections import Connection
from chatd.infrastructure.feeds import RoomFeed
from chatd.infrastructure.wire import message_frame, read_frame
from tests.realtime_fakes import ALICE, FakeMessages, FakeSocket, message, settle

ROOM = 7


async def started_feed(db: FakeMessages) -> tuple[RoomFeed, FakeSocket]:
    feed = RoomFeed(ROOM, messages=db)
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    await feed.start(done)
    socket = FakeSocket()
    connection = Connection(socket, user=ALICE)
    connection.start()
    connection.begin_room(ROOM, after_seq=feed.last_seq)
    feed.connections.add(connection)
    return feed, socket


def publish(feed: RoomFeed, db: FakeMessages, *seqs: int) -> None:
    """Pub/Sub delivering these seqs (already stored) in this order."""
    for seq in seqs:
        feed.on_frame(read_frame(message_frame(db.rooms[ROOM][seq - 1])))


def seqs_sent(socket: FakeSocket) -> list[int]:
    return [read_frame(text).seq for text in socket.sent]


async def until(condition, within: float = 2.0) -> None:
    """Poll a condition on the fake's state (the fill task has no event to wait on)."""
    async with asyncio.timeout(within):
        for _ in itertools.count():
            if condition():
                return
            await asyncio.sleep(0.001)


async def test_in_order_frames_go_straight_out_without_the_database():
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 3)
    reads = db.reads
    publish(feed, db, 1, 2, 3)
    await settle()
    assert seqs_sent(socket) == [1, 2, 3]
    assert db.reads == reads


async def test_duplicates_and_old_frames_are_dropped():
    db = FakeMessages()
    db.store(ROOM, 2)
    feed, socket = await started_feed(db)
    db.store(ROOM, 2)
    publish(feed, db, 1, 2, 3, 3, 2, 4, 4)
    await settle()
    assert seqs_sent(socket) == [3, 4]


async def test_a_hole_is_filled_from_the_database_in_order():
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 6)
    publish(feed, db, 1, 5, 2, 6)  # 3 and 4 were lost by Pub/Sub
    await until(lambda: len(socket.sent) == 6)
    assert seqs_sent(socket) == [1, 2, 3, 4, 5, 6]


async def test_frames_arriving_during_a_fill_wait_their_turn():
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 3)
    publish(feed, db, 3)  # starts a fill for 1..2
    db.store(ROOM, 2)
    publish(feed, db, 5, 4)
    await until(lambda: len(socket.sent) == 5)
    assert seqs_sent(socket) == [1, 2, 3, 4, 5]


async def test_a_check_after_a_reconnect_fetches_what_pubsub_lost():
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 4)  # all published while the bus was away
    feed.check()
    await until(lambda: len(socket.sent) == 4)
    assert seqs_sent(socket) == [1, 2, 3, 4]


async def test_frames_before_start_wait_and_stale_ones_are_dropped():
    db = FakeMessages()
    db.store(ROOM, 3)
    feed = RoomFeed(ROOM, messages=db)
    publish(feed, db, 2, 3)
    db.store(ROOM, 1)
    publish(feed, db, 4)
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    await feed.start(done)
    # last_seq was read as 4: 2, 3, 4 are history for anyone who starts now
    assert feed.last_seq == 4


async def test_a_failing_database_is_retried(monkeypatch):
    monkeypatch.setattr(feeds, "FILL_RETRY", 0.001)
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 3)
    db.fail = 2
    publish(feed, db, 3)
    await until(lambda: len(socket.sent) == 3)
    assert seqs_sent(socket) == [1, 2, 3]


async def test_a_hole_that_never_fills_is_stepped_over(monkeypatch):
    monkeypatch.setattr(feeds, "FILL_RETRY", 0.001)
    monkeypatch.setattr(feeds, "FILL_PATIENCE", 0.01)
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 3)
    del db.rooms[ROOM][1]  # seq 2 vanished: never happens with PostgreSQL's counter
    feed.on_message(3, message_frame(message(ROOM, 3)))
    await until(lambda: len(socket.sent) == 2)
    assert seqs_sent(socket) == [1, 3]


@pytest.mark.parametrize("kind", ["join_room", "leave_room"])
async def test_membership_frames_go_to_everyone_typing_to_the_others(kind):
    db = FakeMessages()
    feed, socket = await started_feed(db)
    frame = f'{{"type":"{kind}","room_id":{ROOM},"user":{{"id":1}}}}'
    feed.on_frame(read_frame(frame))
    feed.on_frame(read_frame(f'{{"type":"typing","room_id":{ROOM},"user":{{"id":1}}}}'))
    await settle()
    assert socket.sent == [frame]  # alice (id 1) does not get her own typing


async def test_frames_past_the_pending_limit_are_read_from_the_database(monkeypatch):
    monkeypatch.setattr(feeds, "PENDING_LIMIT", 3)
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 10)
    publish(feed, db, 2, 3, 4, 5, 6, 7, 8, 9, 10)  # 1 lost; only 3 of these are held
    assert len(feed._pending) <= 3
    await until(lambda: len(socket.sent) == 10)
    assert seqs_sent(socket) == list(range(1, 11))


async def test_a_check_during_a_running_fill_makes_it_read_again():
    db = FakeMessages()
    feed, socket = await started_feed(db)
    db.store(ROOM, 3)
    publish(feed, db, 3)  # a fill starts for 1..2
    await asyncio.sleep(0)  # its query has started: it will not see what is stored now
    db.store(ROOM, 2)  # published while the bus was away
    feed.check()
    await until(lambda: len(socket.sent) == 5)
    assert seqs_sent(socket) == [1, 2, 3, 4, 5]


async def test_a_failed_start_reaches_every_waiter():
    db = FakeMessages()
    db.last_seq = None  # type: ignore[assignment]  # calling it raises TypeError
    feed = RoomFeed(ROOM, messages=db)
    waiter = asyncio.create_task(feed.ready())
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    with pytest.raises(TypeError):
        await feed.start(done)
    with pytest.raises(TypeError):
        await waiter
    assert not feed.is_ready


async def test_a_cancelled_start_is_unavailable_to_waiters():
    feed = RoomFeed(ROOM, messages=FakeMessages())
    never = asyncio.get_running_loop().create_future()
    starting = asyncio.create_task(feed.start(never))
    waiter = asyncio.create_task(feed.ready())
    await settle()
    starting.cancel()
    with pytest.raises(Unavailable):
        await waiter
    assert not feed.is_ready
