"""Outbox: a bounded queue the flusher writes out; a client that stops reading is closed."""

import asyncio

from chatd.infrastructure.outbox import SLOW_CONSUMER_CODE, Flusher, Outbox
from tests.fake_streams import FakeSocket
from tests.fakes import ALICE, BOB


def started(socket: FakeSocket, user=ALICE, **kwargs) -> Outbox:
    return Outbox(socket, user_id=user.id, flusher=Flusher(), abort=socket.abort, **kwargs)


async def test_frames_go_out_in_order():
    socket = FakeSocket()
    outbox = started(socket)
    for n in range(5):
        outbox.send(f"f{n}")
    assert await socket.received(5) == [f"f{n}" for n in range(5)]


async def test_a_full_queue_closes_that_connection_only():
    stuck, fine = FakeSocket(blocked=True), FakeSocket()
    slow = started(stuck, capacity=3, close_timeout=0.01)
    fast = started(fine, BOB, capacity=3)
    for n in range(10):
        for outbox in (slow, fast):
            outbox.send(f"f{n}")  # never awaits: a broadcast is put_nowait only
        await fine.received(n + 1)
    assert slow.closed and slow.close_code == SLOW_CONSUMER_CODE
    assert fine.sent == [f"f{n}" for n in range(10)]
    async with asyncio.timeout(2):
        await stuck.aborted.wait()  # a client that reads nothing gets no close frame either
    assert slow.queued <= 3


async def test_close_drains_the_queue_first():
    socket = FakeSocket()
    outbox = started(socket)
    for n in range(3):
        outbox.send(f"f{n}")
    await outbox.close(code=1001, drain=1.0)
    assert socket.sent == ["f0", "f1", "f2"] and socket.closed_with == 1001
    outbox.send("late")
    assert outbox.queued == 0 and socket.sent[-1] == "f2"


async def test_frames_queued_together_go_out_in_one_write():
    socket = FakeSocket()
    outbox = started(socket)
    for n in range(10):
        outbox.send(f"f{n}")  # all queued before the writer runs
    assert await socket.received(10) == [f"f{n}" for n in range(10)]
    assert socket.writes == 1


class PausingSocket(FakeSocket):
    """A transport that is full after every write, until the test lets it drain."""

    def __init__(self) -> None:
        super().__init__()
        self.drained = asyncio.Event()

    def write(self, texts: list[str]) -> bool:
        super().write(texts)
        return True

    async def writable(self) -> None:
        await self.drained.wait()
        self.drained.clear()


async def test_a_full_transport_is_waited_for_then_gets_the_rest_at_once():
    socket = PausingSocket()
    outbox = started(socket)
    outbox.send("f0")
    await socket.received(1)
    outbox.send("f1")
    outbox.send("f2")
    assert outbox.queued == 2 and socket.sent == ["f0"], "nothing written while it is full"
    socket.drained.set()
    assert await socket.received(3) == ["f0", "f1", "f2"]
    assert socket.writes == 2
