"""Connection: a bounded queue drained by one writer; a client that stops reading is closed."""

import asyncio

from chatd.infrastructure import connections
from chatd.infrastructure.connections import SLOW_CONSUMER_CODE, Connection
from tests.realtime_fakes import ALICE, BOB, FakeSocket, settle


def started(socket: FakeSocket, **kwargs) -> Connection:
    connection = Connection(socket, user=ALICE, abort=socket.abort, **kwargs)
    connection.start()
    return connection


async def test_frames_go_out_in_order():
    socket = FakeSocket()
    connection = started(socket)
    for n in range(5):
        connection.send(f"f{n}")
    await settle()
    assert socket.sent == [f"f{n}" for n in range(5)]


async def test_a_rooms_messages_go_out_once_in_ascending_seq():
    socket = FakeSocket()
    connection = started(socket)
    connection.begin_room(1, after_seq=10)
    for seq in (9, 10, 11, 11, 12, 11):
        connection.push_message(1, seq, f"s{seq}")
    connection.push_message(2, 1, "not watched")
    await settle()
    assert socket.sent == ["s11", "s12"]


async def test_held_live_frames_follow_the_replay_without_duplicates():
    socket = FakeSocket()
    connection = started(socket)
    connection.begin_room(1, after_seq=3, hold=True)
    connection.push_message(1, 5, "live5")  # arrives while the replay reads the database
    connection.push_message(1, 6, "live6")
    for seq in (4, 5):
        connection.push_message(1, seq, f"replay{seq}", live=False)
    connection.release(1)
    connection.push_message(1, 7, "live7")
    await settle()
    assert socket.sent == ["replay4", "replay5", "live6", "live7"]


async def test_a_full_queue_closes_that_connection_only(monkeypatch):
    monkeypatch.setattr(connections, "CLOSE_TIMEOUT", 0.01)
    stuck, fine = FakeSocket(blocked=True), FakeSocket()
    slow = started(stuck, queue_size=3)
    fast = Connection(fine, user=BOB, queue_size=3)
    fast.start()
    for n in range(10):
        for connection in (slow, fast):
            connection.send(f"f{n}")  # never awaits: a broadcast is put_nowait only
        await settle()
    assert slow.closed and slow.close_code == SLOW_CONSUMER_CODE
    assert fine.sent == [f"f{n}" for n in range(10)]
    await asyncio.sleep(0.05)
    assert stuck.aborted, "a client that reads nothing gets no close frame either"
    assert slow.queued <= 3


async def test_close_drains_the_queue_first():
    socket = FakeSocket()
    connection = started(socket)
    for n in range(3):
        connection.send(f"f{n}")
    await connection.close(code=1001, drain=1.0)
    assert socket.sent == ["f0", "f1", "f2"] and socket.closed_with == 1001
    connection.send("late")
    await settle()
    assert socket.sent[-1] == "f2"
