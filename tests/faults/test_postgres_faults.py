"""PostgreSQL's backends terminated (pg_terminate_backend) and then PostgreSQL restarted, under
two chatd processes with live posts (REST and a socket) and readers: REST gets 503 with
Retry-After and a socket `unavailable` errors (it stays open), never another 5xx nor a hang;
the pools heal; a post retried with the same client_id makes one row; readers get exactly what
was committed, once, in order."""

import asyncio
import time
from collections import Counter

import aiohttp
import asyncpg
import pytest

from tests.faults.load import Posts, Receiver, WsPoster, chatd_processes, totals, wait_until
from tests.support import Api

pytestmark = pytest.mark.slow

READERS = 4
POSTERS = 4
TERMINATIONS = 3

CHATD_BACKENDS = """
    SELECT pid FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend'
      AND pid <> pg_backend_pid()
"""


async def test_postgres_terminated_and_restarted_under_load(settings, private_postgres, figure):
    settings = settings.with_overrides(database_url=private_postgres.url)
    admin = await asyncpg.connect(private_postgres.url)
    async with chatd_processes(settings, 2) as servers, aiohttp.ClientSession() as session:
        apis = [Api(session, base_url=server.url) for server in servers]
        owner = await apis[0].user_token("owner")
        room_id = await apis[0].create_room(owner)
        receivers = []
        for n in range(READERS):
            token = await apis[0].user_token(f"reader{n}")
            await apis[1].join(token, room_id)
            receivers.append(Receiver(session, servers[n % 2].url, token, room_id, after=0))
        reading = [asyncio.create_task(r.run()) for r in receivers]
        posts, ws_posts, stop = Posts(), WsPoster(), asyncio.Event()
        try:
            await wait_until(lambda: all(r.ready.is_set() for r in receivers), within=60)
            posting = [
                asyncio.create_task(posts.until(apis[n % 2], owner, room_id, n, stop))
                for n in range(POSTERS)
            ] + [asyncio.create_task(ws_posts.until(servers[1].url, owner, room_id, 0, stop))]
            terminated = 0
            for _ in range(TERMINATIONS):
                mark = len(posts.stored)
                await wait_until(lambda mark=mark: len(posts.stored) >= mark + 30, within=60)
                pids = [row["pid"] for row in await admin.fetch(CHATD_BACKENDS)]
                for pid in pids:
                    terminated += await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            mark = len(posts.stored)
            await wait_until(lambda: len(posts.stored) >= mark + 30, within=60)
            await admin.close()
            await private_postgres.stop()
            await private_postgres.start()
            back = time.monotonic()
            recovered = await wait_until(
                lambda: all(posts.last_ok.get(s.url, 0) > back for s in servers), within=60
            )
            mark = len(posts.stored)
            await wait_until(lambda: len(posts.stored) >= mark + 30, within=60)
            stop.set()
            await asyncio.gather(*posting)
            last = max(posts.stored + ws_posts.stored)
            await wait_until(lambda: all(r.last >= last for r in receivers), within=60)
        finally:
            stop.set()
            for task in reading:
                task.cancel()
            await asyncio.gather(*reading, return_exceptions=True)
        rows, leaked = await what_is_stored(private_postgres.url, room_id, servers, session)

    found = totals([r.tally for r in receivers], 1, {room_id: last}, [room_id] * READERS)
    client_ids = Counter(r["client_id"] for r in rows if r["client_id"] is not None)
    duplicate_rows = sum(count - 1 for count in client_ids.values())
    published = {pair for r in receivers for pair in zip(r.tally.seqs, r.tally.ids, strict=True)}
    uncommitted = published - {(r["seq"], r["id"]) for r in rows}
    other_5xx = posts.other_5xx()
    figure(
        f"non-503 5xx {other_5xx}, hangs {posts.statuses['hang']}, "
        f"503 {posts.statuses[503]} (without Retry-After {posts.no_retry_after}), "
        f"slowest answer {posts.slowest:.1f} s, "
        f"backends terminated {terminated}, seconds to recover {recovered:.1f}, "
        f"socket sends answered unavailable {ws_posts.errors['unavailable']} "
        f"(other errors {sum(ws_posts.errors.values()) - ws_posts.errors['unavailable']}), "
        f"retries answered 200 (stored by the failed try) {posts.statuses[200]}, "
        f"duplicate rows {duplicate_rows}, published uncommitted {len(uncommitted)}, "
        f"lost {found['lost']} of {len(rows)}, duplicates {found['duplicates']}, "
        f"out of order {found['out_of_order']}, leaked connections {leaked}"
    )
    assert terminated >= TERMINATIONS * 2, "every round found chatd's connections"
    assert other_5xx == 0 and posts.statuses["hang"] == 0, posts.statuses
    assert posts.statuses[503] > 0 and posts.no_retry_after == 0, posts.statuses
    assert set(posts.statuses) <= {200, 201, 503}, posts.statuses
    assert duplicate_rows == 0 and not uncommitted
    assert set(ws_posts.errors) <= {"unavailable"} and ws_posts.stored, ws_posts.errors
    stored = posts.stored + ws_posts.stored
    assert sorted(stored) == sorted(set(stored)), "one seq per client_id"
    assert found == {"lost": 0, "duplicates": 0, "out_of_order": 0}
    assert [r["seq"] for r in rows] == list(range(1, last + 1))
    assert leaked == 0


async def what_is_stored(url: str, room_id: int, servers, session) -> tuple[list, int]:
    """The room's rows; and how many of chatd's connections PostgreSQL has beyond what the
    processes' pools say they hold (a leak)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT id, seq, client_id FROM messages WHERE room_id = $1 ORDER BY seq", room_id
        )
        held = 0
        for server in servers:
            async with session.get(f"{server.url}/metrics") as response:
                held += pool_size(await response.text())
        backends = len(await conn.fetch(CHATD_BACKENDS))
    finally:
        await conn.close()
    return rows, backends - held


def pool_size(metrics: str) -> int:
    return sum(
        int(float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith("chatd_pg_pool_connections{")
    )
