"""Read markers and search against fakes: markers only move forwards and only a move is
published; search and markers are for members, with documented refusals."""

import pytest

from chatd.application.reading import ReadMarkers
from chatd.application.search import Search
from chatd.domain.errors import DomainError
from chatd.domain.events import ReadMarkerMoved
from chatd.domain.model import User
from tests.fake_changes import FakeReadMarkers, FakeSearch
from tests.fakes import ALICE, BOB, EPOCH


@pytest.fixture
async def room(rooms, store, bus):
    room = await rooms.create(owner=ALICE, name="general")
    await rooms.join(room_id=room.id, user=BOB)
    for n in range(5):
        store.store(room.id, "user", ALICE, f"note {n} apple" if n % 2 else f"note {n}", None)
    bus.events.clear()
    return room


async def refused(call, code: str) -> None:
    with pytest.raises(DomainError) as caught:
        await call
    assert caught.value.code == code


async def test_a_marker_moves_only_forwards_and_a_move_is_published(room, store, bus):
    markers = ReadMarkers(markers=FakeReadMarkers(store), rooms=store, bus=bus)
    assert await markers.mark_read(room_id=room.id, user=BOB, seq=4) == 4
    assert await markers.mark_read(room_id=room.id, user=BOB, seq=2) == 4  # backwards: no-op
    assert await markers.mark_read(room_id=room.id, user=BOB, seq=4) == 4
    assert await markers.mark_read(room_id=room.id, user=BOB, seq=10**12) == 6  # clamped
    assert bus.events == [
        ReadMarkerMoved(user_id=BOB.id, room_id=room.id, seq=4),
        ReadMarkerMoved(user_id=BOB.id, room_id=room.id, seq=6),
    ]
    [reading] = await markers.my_rooms(user=BOB)
    assert (reading.room.id, reading.last_read_seq, reading.unread) == (room.id, 6, 0)


async def test_marker_refusals(room, store, bus):
    markers = ReadMarkers(markers=FakeReadMarkers(store), rooms=store, bus=bus)
    eve = User(9, "eve", EPOCH)
    store.users[eve.id] = eve  # signed up, not in the room
    await refused(markers.mark_read(room_id=room.id, user=eve, seq=1), "not_a_member")
    await refused(markers.mark_read(room_id=99, user=BOB, seq=1), "room_not_found")
    for seq in (-1, True, 1.5, "3", None):
        await refused(markers.mark_read(room_id=room.id, user=BOB, seq=seq), "invalid_field")
    assert bus.events == []


async def test_search_is_for_members_with_a_real_query(room, store):
    search = Search(search=FakeSearch(store), rooms=store)
    found = await search.search(room_id=room.id, reader=BOB, query="  apple ", limit=1)
    assert [m.body for m in found] == ["note 3 apple"]
    found = await search.search(room_id=room.id, reader=BOB, query="apple", before_seq=found[0].seq)
    assert [m.body for m in found] == ["note 1 apple"]
    eve = User(9, "eve", EPOCH)
    store.users[eve.id] = eve  # signed up, not in the room
    await refused(search.search(room_id=room.id, reader=eve, query="apple"), "not_a_member")
    await refused(search.search(room_id=99, reader=BOB, query="apple"), "room_not_found")
    for query in ("", "   ", "!!! ---", "x" * 201, "a\x00"):
        code = "bad_text" if "\x00" in query else "invalid_search"
        await refused(search.search(room_id=room.id, reader=BOB, query=query), code)
    for limit in (0, 201):
        await refused(
            search.search(room_id=room.id, reader=BOB, query="a", limit=limit), "invalid_limit"
        )
