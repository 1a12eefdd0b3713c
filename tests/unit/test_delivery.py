"""Delivery policy without I/O: the per-room cursor, the resync arithmetic, the hole rule."""

import pytest

from chatd.application.delivery import RoomCursor, missed_count, seq_after_hole
from tests.fake_streams import FakeOutbox


def test_a_rooms_messages_go_out_once_in_ascending_seq():
    outbox = FakeOutbox()
    cursor = RoomCursor(outbox, 1, after_seq=10)
    for seq in (9, 10, 11, 11, 12, 11):
        cursor.push(seq, f"s{seq}")
    assert outbox.sent == ["s11", "s12"] and cursor.sent == 12


def test_held_live_frames_follow_the_replay_without_duplicates():
    outbox = FakeOutbox()
    cursor = RoomCursor(outbox, 1, after_seq=3, hold=True)
    cursor.push(5, "live5")  # arrives while the replay reads the database
    cursor.push(6, "live6")
    for seq in (4, 5):
        cursor.push_replayed(seq, f"replay{seq}")
    cursor.release()
    cursor.push(7, "live7")
    assert outbox.sent == ["replay4", "replay5", "live6", "live7"]
    assert not cursor.holding


def test_held_frames_past_the_outbox_capacity_drop_the_connection():
    outbox = FakeOutbox(capacity=2)
    cursor = RoomCursor(outbox, 1, after_seq=0, hold=True)
    for seq in (1, 2, 3):
        cursor.push(seq, f"s{seq}")
    assert outbox.closed and outbox.close_code == 1013


def test_older_messages_go_out_as_asked_and_rewind_the_start():
    outbox = FakeOutbox()
    cursor = RoomCursor(outbox, 1, after_seq=5)
    cursor.push_older("s3")
    cursor.rewind(2)
    cursor.rewind(4)  # never forwards
    assert outbox.sent == ["s3"] and cursor.started_after == 2 and cursor.sent == 5


def test_advance_skips_ahead_only():
    cursor = RoomCursor(FakeOutbox(), 1, after_seq=5)
    cursor.advance(3)
    assert cursor.sent == 5
    cursor.advance(9)
    cursor.push(9, "old")
    assert cursor.sent == 9 and cursor.outbox.sent == []


@pytest.mark.parametrize(
    ("started_after", "sent", "after_seq", "last_seq", "missed"),
    [
        (10, 10, 10, 10, 0),  # up to date
        (10, 10, 4, 10, 6),  # 5..10 were before the stream started here
        (10, 12, 4, 15, 9),  # 5..10 older, 13..15 stored but not yet sent
        (10, 12, 11, 15, 3),  # 11 and 12 were sent already: only 13..15
        (10, 10, 1_000_000, 10, 0),  # a position from the future: up to date
        (0, 0, 0, 1000, 1000),  # exactly the limit's worth
    ],
)
def test_missed_count(started_after, sent, after_seq, last_seq, missed):
    assert (
        missed_count(started_after=started_after, sent=sent, after_seq=after_seq, last_seq=last_seq)
        == missed
    )


def test_a_hole_is_stepped_over_to_just_before_the_lowest_known_seq():
    assert seq_after_hole(4, [9, 7, 12]) == 6
    assert seq_after_hole(4, []) == 4  # nothing known past the hole: stay
