"""Typing: forwarded to the room, never stored, once per user and room every 2 s, across every
process (the gate), with no gate call for what this process knows to be throttled."""

import pytest

from chatd.application.realtime import Typing
from chatd.domain.errors import Forbidden
from chatd.domain.events import UserTyping
from tests.fake_rooms import FakeRoomRepo
from tests.fake_streams import FakeTypingGate, InMemoryBus
from tests.fakes import ALICE, BOB, FakeClock


class World:
    def __init__(self) -> None:
        self.bus, self.clock, self.members = InMemoryBus(), FakeClock(), FakeRoomRepo()
        self.members.enroll(1, ALICE)
        self.members.enroll(1, BOB)
        self.gate = FakeTypingGate(self.bus, self.clock)

    def process(self) -> Typing:
        """The Typing use case of one more process, sharing the gate."""
        return Typing(memberships=self.members, gate=self.gate, clock=self.clock)


@pytest.fixture
def world() -> World:
    return World()


async def test_typing_is_throttled_per_user_and_room(world):
    typing = world.process()
    assert await typing.typing(room_id=1, user=ALICE)
    assert not await typing.typing(room_id=1, user=ALICE)
    assert await typing.typing(room_id=1, user=BOB)
    world.clock.advance(1.9)
    assert not await typing.typing(room_id=1, user=ALICE)
    world.clock.advance(0.2)
    assert await typing.typing(room_id=1, user=ALICE)
    assert world.bus.events == [
        UserTyping(room_id=1, user=ALICE),
        UserTyping(room_id=1, user=BOB),
        UserTyping(room_id=1, user=ALICE),
    ]


async def test_two_processes_forward_one_notice_per_interval(world):
    on_a, on_b = world.process(), world.process()
    forwarded = []
    for _ in range(10):  # both processes, every 0.5 s, for 5 s
        forwarded.append(await on_a.typing(room_id=1, user=ALICE))
        forwarded.append(await on_b.typing(room_id=1, user=ALICE))
        world.clock.advance(0.5)
    assert forwarded.count(True) == 3  # at 0, 2 and 4 s
    assert world.bus.events == [UserTyping(room_id=1, user=ALICE)] * 3


async def test_what_is_known_to_be_throttled_costs_no_gate_call(world):
    on_a, on_b = world.process(), world.process()
    assert await on_a.typing(room_id=1, user=ALICE)
    assert not await on_b.typing(room_id=1, user=ALICE)  # asks the gate, learns the wait
    calls = world.gate.calls
    world.clock.advance(1.0)
    assert not await on_a.typing(room_id=1, user=ALICE)
    assert not await on_b.typing(room_id=1, user=ALICE)
    assert world.gate.calls == calls
    world.clock.advance(1.0)
    assert await on_b.typing(room_id=1, user=ALICE)


async def test_only_members_may_type(world):
    with pytest.raises(Forbidden):
        await world.process().typing(room_id=2, user=ALICE)
    assert world.bus.events == []
