"""The feeds' process totals behind /metrics: gap fills, messages filled, holes stepped over."""

import asyncio

from chatd.application.frames import message_frame
from chatd.infrastructure import feeds
from chatd.infrastructure.feeds import RoomFeed
from tests.fake_rooms import FakeMessageRepo
from tests.fake_streams import FakeOutbox, until
from tests.fakes import ALICE

ROOM = 7


async def started_feed(db: FakeMessageRepo, **options) -> tuple[RoomFeed, FakeOutbox]:
    subscribed = asyncio.get_running_loop().create_future()
    subscribed.set_result(None)
    feed = RoomFeed(ROOM, messages=db, **options)
    await feed.start(subscribed)
    outbox = FakeOutbox(ALICE)
    feed.add(outbox, hold=False)
    return feed, outbox


def frame_of(db: FakeMessageRepo, seq: int) -> str:
    [message] = [m for m in db.store.messages if (m.room_id, m.seq) == (ROOM, seq)]
    return message_frame(message)


async def test_a_fill_counts_once_with_the_messages_it_read():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db)
    before = dict(feeds.TOTALS)
    db.post(ROOM, 3)
    feed.on_message(3, frame_of(db, 3))  # 1 and 2 were lost by Pub/Sub
    await until(lambda: len(outbox.sent) == 3)
    assert feeds.TOTALS["gap_fills"] - before["gap_fills"] == 1
    assert feeds.TOTALS["filled"] - before["filled"] >= 2
    assert feeds.TOTALS["holes"] == before["holes"]


async def test_a_hole_stepped_over_is_counted():
    db = FakeMessageRepo()
    feed, outbox = await started_feed(db, fill_retry=0.001, fill_patience=0.01)
    before = dict(feeds.TOTALS)
    db.post(ROOM, 3)
    third = frame_of(db, 3)
    db.lose(ROOM, 2)
    feed.on_message(3, third)
    await until(lambda: len(outbox.sent) == 2)
    assert feeds.TOTALS["holes"] - before["holes"] == 1
