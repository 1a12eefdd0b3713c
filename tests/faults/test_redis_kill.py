"""Redis SIGKILLed and started again under steady load, under two chatd processes: 10,000
messages over 10 rooms to 300 sockets, and every socket ends with every message of its room,
once each, in order. What was posted while Redis was down reaches the sockets from PostgreSQL
once the bus is back."""

import asyncio
import time

import aiohttp
import pytest

from tests.faults.load import (
    PacedSender,
    Receiver,
    chatd_processes,
    pubsub_clients,
    totals,
    wait_until,
)
from tests.support import Api

pytestmark = pytest.mark.slow

ROOMS = 10
MESSAGES = 10_000  # in all, MESSAGES // ROOMS per room
SOCKETS = 300  # SOCKETS // ROOMS per room, over both processes
SOCKETS_PER_USER = 10
RATE = 400  # messages per second, in all: steady load, not a flood
DOWN_SECONDS = 2.0


async def test_redis_killed_under_load_loses_nothing(settings, private_redis, figure):
    settings = settings.with_overrides(redis_url=private_redis.url)
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        chatd_processes(settings, 2) as servers,
        aiohttp.ClientSession(connector=connector) as session,
    ):
        http = Api(session, base_url=servers[0].url)
        senders, receivers = await setup(session, http, servers)
        reading = [asyncio.create_task(r.run()) for r in receivers]
        try:
            await wait_until(lambda: all(r.ready.is_set() for r in receivers), within=120)
            sending = [asyncio.create_task(s.run(RATE / ROOMS)) for s in senders]
            await wait_until(lambda: acked(senders) >= MESSAGES * 0.3, within=120)
            private_redis.kill()
            killed_at = acked(senders)
            await asyncio.sleep(DOWN_SECONDS)  # the outage itself
            await private_redis.start()
            back, back_at = time.monotonic(), acked(senders)
            # What each room had stored when Redis came back: every socket must reach it.
            due = {s.room_id: s.seqs[-1] for s in senders}
            await asyncio.gather(*sending)
            last = {s.room_id: s.seqs[-1] for s in senders}
            await wait_until(lambda: all(r.last >= last[r.room_id] for r in receivers), 180)
            subscribers = await pubsub_clients(private_redis.url)
        finally:
            for task in reading:
                task.cancel()
            await asyncio.gather(*reading, return_exceptions=True)

    assert not [e for s in senders for e in s.errors], "no send was refused"
    assert [len(s.seqs) for s in senders] == [MESSAGES // ROOMS] * ROOMS
    tallies = [r.tally for r in receivers]
    found = totals(tallies, 1, last, [r.room_id for r in receivers])
    converge = max(r.tally.arrival_of(due[r.room_id]) for r in receivers) - back
    figure(
        f"lost {found['lost']} of {MESSAGES} to {SOCKETS} sockets, "
        f"duplicates {found['duplicates']}, out of order {found['out_of_order']}, "
        f"{back_at - killed_at} posted while Redis was down, "
        f"seconds to converge {max(converge, 0):.1f}, "
        f"socket reconnects {sum(r.reconnects for r in receivers)}, "
        f"subscriber connections {subscribers} (of 2 processes)"
    )
    assert found == {"lost": 0, "duplicates": 0, "out_of_order": 0}
    assert back_at > killed_at, "messages were posted while Redis was down"
    assert subscribers == 2


async def setup(session, http: Api, servers) -> tuple[list[PacedSender], list[Receiver]]:
    """One sender per room; SOCKETS readers, SOCKETS_PER_USER sockets per user, alternately on
    each process; each room has SOCKETS // ROOMS sockets."""
    senders, receivers = [], []
    readers_per_room = SOCKETS // ROOMS // SOCKETS_PER_USER
    for n in range(ROOMS):
        owner = await http.user_token(f"sender{n}")
        room_id = await http.create_room(owner, f"room{n}")
        senders.append(
            PacedSender(session, servers[n % 2].url, owner, room_id, count=MESSAGES // ROOMS)
        )
        for r in range(readers_per_room):
            token = await http.user_token(f"reader{n}x{r}")
            await http.join(token, room_id)
            for k in range(SOCKETS_PER_USER):
                server = servers[(r * SOCKETS_PER_USER + k) % 2]
                receivers.append(Receiver(session, server.url, token, room_id, after=0))
    return senders, receivers


def acked(senders: list[PacedSender]) -> int:
    return sum(len(s.seqs) for s in senders)
