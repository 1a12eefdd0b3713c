"""Presence against the fake store shared by several processes: one presence per user however
many connections and processes, the grace before offline, sweeping a dead process, recovering
lost claims and outages, and no offline flood when a process stops."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.application.presence import Presence
from tests.fake_rooms import FakeRoomRepo
from tests.fake_streams import FakePresenceStore, InMemoryBus, PresenceWorld, until
from tests.fakes import ALICE, BOB, FakeClock, FakeUserRepo

GRACE = 0.05
PAST_GRACE = GRACE * 4  # long enough for a grace to have run out


def online(user, *rooms):
    return [(room, user.id, True) for room in rooms]


def offline(user, *rooms):
    return [(room, user.id, False) for room in rooms]


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.shared = PresenceWorld(InMemoryBus(), self.clock)
        self.members, self.users = FakeRoomRepo(), FakeUserRepo()
        for room, user in ((5, ALICE), (6, ALICE), (5, BOB)):
            self.members.enroll(room, user)
        self.stores: dict[str, FakePresenceStore] = {}
        self.processes: list[Presence] = []

    async def process(self, name: str) -> Presence:
        self.stores[name] = store = FakePresenceStore(self.shared, name)
        presence = Presence(store=store, users=self.users, memberships=self.members, grace=GRACE)
        await presence.renew()
        self.processes.append(presence)
        return presence

    @property
    def announced(self) -> list[tuple[int, int, bool]]:
        return self.shared.announced()


@pytest.fixture
async def world() -> AsyncIterator[World]:
    world = World()
    for name in ("alice", "bob"):
        await world.users.add(username=name, password_hash=b"")
    yield world
    for presence in world.processes:
        await presence.aclose()


async def test_many_connections_are_one_presence_announced_in_every_room(world):
    here = await world.process("a")
    calls = world.stores["a"].calls
    for _ in range(3):
        here.connected(ALICE)
    await until(lambda: world.announced == online(ALICE, 5, 6))
    here.disconnected(ALICE)
    here.disconnected(ALICE)
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == online(ALICE, 5, 6)
    here.disconnected(ALICE)
    await until(lambda: world.announced == online(ALICE, 5, 6) + offline(ALICE, 5, 6))
    assert world.stores["a"].calls == calls + 2, "one claim, one release"


async def test_a_reconnect_within_the_grace_is_no_offline_online_pair(world):
    here = await world.process("a")
    here.connected(ALICE)
    await until(lambda: world.announced == online(ALICE, 5, 6))
    here.disconnected(ALICE)
    await asyncio.sleep(GRACE / 2)
    here.connected(ALICE)
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == online(ALICE, 5, 6)
    assert world.shared.is_online(ALICE.id)


async def test_a_user_on_two_processes_goes_offline_when_the_last_closes(world):
    a, b = await world.process("a"), await world.process("b")
    a.connected(BOB)
    await until(lambda: world.announced == online(BOB, 5))
    b.connected(BOB)
    a.disconnected(BOB)
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == online(BOB, 5)
    assert world.shared.holders[BOB.id] == {"b"}
    b.disconnected(BOB)
    await until(lambda: world.announced == online(BOB, 5) + offline(BOB, 5))


async def test_a_reconnect_to_another_process_within_the_grace_is_silent(world):
    a, b = await world.process("a"), await world.process("b")
    a.connected(BOB)
    await until(lambda: world.announced == online(BOB, 5))
    a.disconnected(BOB)
    b.connected(BOB)
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == online(BOB, 5)
    assert world.shared.is_online(BOB.id)


async def test_a_dead_process_is_swept_once_and_only_its_last_users_go_offline(world):
    a, b, c = await world.process("a"), await world.process("b"), await world.process("c")
    a.connected(ALICE)
    a.connected(BOB)
    b.connected(BOB)
    await until(lambda: world.shared.holders.get(BOB.id) == {"a", "b"})
    world.clock.advance(21)  # a renews no more (killed): past its deadline, b and c renew
    await b.renew()
    await c.renew()
    await until(lambda: "a" not in world.shared.deadlines)
    assert world.announced == online(ALICE, 5, 6) + online(BOB, 5) + offline(ALICE, 5, 6)
    assert world.shared.is_online(BOB.id) and not world.shared.is_online(ALICE.id)


async def test_claims_lost_while_alive_are_made_again(world):
    a, b = await world.process("a"), await world.process("b")
    a.connected(ALICE)
    await until(lambda: world.announced == online(ALICE, 5, 6))
    world.clock.advance(21)  # a stalled past its deadline: b sweeps it
    await b.renew()
    await until(lambda: world.announced[-2:] == offline(ALICE, 5, 6))
    await a.renew()  # a is back: its claims were lost
    await until(lambda: world.announced[-2:] == online(ALICE, 5, 6))
    assert world.shared.is_online(ALICE.id)


async def test_an_outage_is_caught_up_at_the_next_renewal(world):
    here = await world.process("a")
    world.shared.down = True
    here.connected(ALICE)
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == []
    world.shared.down = False
    await here.renew()
    await until(lambda: world.announced == online(ALICE, 5, 6))


async def test_a_process_that_stops_leaves_its_claims_to_expire(world):
    here = await world.process("a")
    here.connected(ALICE)
    await until(lambda: world.announced == online(ALICE, 5, 6))
    here.disconnected(ALICE)  # the shutdown closes every socket...
    await here.aclose()  # ...and stops within the grace: no offline flood
    await asyncio.sleep(PAST_GRACE)
    assert world.announced == online(ALICE, 5, 6)
    assert world.shared.is_online(ALICE.id)
    world.clock.advance(21)
    assert not world.shared.is_online(ALICE.id)
