"""Faults made by a TCP proxy (tests/faults/proxy.py) between chatd and its peers: a blackholed
Redis (nothing answers, nothing closes) is found by the bus's health check and the bus catches up
once Redis is reachable again; half-open client sockets are closed by the WebSocket heartbeat;
PostgreSQL connections reset or slowed under load give 503s at worst, and the pool heals."""

import asyncio
import re
import time
from collections import Counter

import aiohttp
import asyncpg
import pytest

from tests.faults.load import Posts, Receiver, metric, pubsub_clients, wait_until
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

HEALTH_INTERVAL = 1  # CHATD_REDIS_HEALTH_INTERVAL in these tests
HEARTBEAT = 3  # CHATD_WS_HEARTBEAT in these tests: a ping, then half of it for the pong
HALF_OPEN = 10


async def test_a_blackholed_redis_is_detected_and_the_bus_catches_up(
    settings, private_redis, proxies, figure
):
    """Process A reaches Redis through the proxy, process B directly; B posts while A's path
    is a blackhole."""
    proxy = await proxies(upstream_host="127.0.0.1", upstream_port=private_redis.port)
    settings = settings.with_overrides(redis_url=private_redis.url)
    env = {"CHATD_MESSAGE_RATE": "0", "CHATD_REDIS_HEALTH_INTERVAL": str(HEALTH_INTERVAL)}
    a = ServerProcess(settings, REDIS_URL=f"redis://127.0.0.1:{proxy.port}/0", **env)
    b = ServerProcess(settings, **env)
    async with aiohttp.ClientSession() as session:
        try:
            await a.start()
            await b.start()
            api_b = Api(session, base_url=b.url)
            owner = await api_b.user_token("owner")
            room_id = await api_b.create_room(owner)
            reader_token = await api_b.user_token("reader")
            await api_b.join(reader_token, room_id)
            reader = Receiver(session, a.url, reader_token, room_id, after=0)
            reading = asyncio.create_task(reader.run())
            try:
                seqs = [(await api_b.post(owner, room_id, f"before {n}"))["seq"] for n in range(10)]
                await wait_until(lambda: reader.last >= seqs[-1], within=30)
                tasks_before = await metric(session, a.url, "chatd_asyncio_tasks")
                reconnects = await metric(session, a.url, "chatd_bus_reconnects_total")

                proxy.blackhole()
                blackholed = time.monotonic()
                await wait_until(lambda: "no PONG" in a.output(), within=30)
                detection = time.monotonic() - blackholed
                # Posted (and published by B) while A's path to Redis is still a blackhole.
                seqs += [(await api_b.post(owner, room_id, f"dark {n}"))["seq"] for n in range(10)]
                proxy.heal()
                catch_up = await wait_until(lambda: reader.last >= seqs[-1], within=60)
                reconnected = await metric(session, a.url, "chatd_bus_reconnects_total")
                leaked_tasks = await settled(session, a.url, tasks_before)
                subscribers = await pubsub_clients(private_redis.url)
            finally:
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
        finally:
            for server in (a, b):
                server.stop()

    figure(
        f"blackhole detected in {detection:.1f} s (health check every {HEALTH_INTERVAL} s), "
        f"caught up {catch_up:.1f} s after the path healed, lost {reader.tally.lost(1, seqs[-1])}, "
        f"duplicates {reader.tally.duplicates()}, leaked tasks {leaked_tasks}, "
        f"subscriber connections {subscribers} (of 2 processes)"
    )
    assert detection <= 2 * HEALTH_INTERVAL + 1, "a PING, then no PONG within one interval"
    assert reconnected > reconnects
    assert reader.tally.seqs == list(range(1, seqs[-1] + 1))
    assert leaked_tasks <= 0
    assert subscribers == 2, "the blackholed subscriber connection was closed, not leaked"


async def test_half_open_client_sockets_are_closed_by_the_heartbeat(settings, proxies, figure):
    server = ServerProcess(settings, CHATD_WS_HEARTBEAT=str(HEARTBEAT))
    async with aiohttp.ClientSession() as session:
        try:
            await server.start()
            api = Api(session, base_url=server.url)
            token = await api.user_token("alice")
            await api.create_room(token)
            baseline = await gauges(session, server.url)
            proxy = await proxies(upstream_host="127.0.0.1", upstream_port=server.port)
            through = f"http://127.0.0.1:{proxy.port}"
            clients = [
                await WsClient.connect(through, token, session=session, heartbeat=None)
                for _ in range(HALF_OPEN)
            ]
            opened = await gauges(session, server.url)
            proxy.blackhole()  # the clients vanish without a FIN: their sockets are half-open
            closed_in = await wait_until_async(
                lambda: gauges(session, server.url), lambda g: g[:2] == baseline[:2], within=30
            )
            leaked_tasks = await settled(session, server.url, baseline[2])
            after = await gauges(session, server.url)
            # chatd closed the TCP connections too: the proxy sees each end and drops the pair.
            await wait_until(lambda: proxy.open_connections == 0, within=10)
            leaked = int(after[0] - baseline[0] + after[1] - baseline[1]) + proxy.open_connections
            assert len(clients) == HALF_OPEN  # their ends are closed with the session
        finally:
            server.stop()

    figure(
        f"{HALF_OPEN} half-open sockets closed in {closed_in:.1f} s "
        f"(heartbeat {HEARTBEAT} s), leaked connections {leaked}, leaked tasks {leaked_tasks}"
    )
    assert opened[:2] == (baseline[0] + HALF_OPEN, baseline[1] + HALF_OPEN)
    assert closed_in <= 2 * HEARTBEAT
    assert leaked == 0
    assert leaked_tasks <= 0


async def test_postgres_connections_reset_and_slowed_under_load(
    settings, private_postgres, proxies, figure
):
    """chatd on PostgreSQL through the proxy; every connection is reset three times while
    three posters post, then 50 ms is added to every chunk."""
    proxy = await proxies(unix=private_postgres.unix_socket)
    url = f"postgresql://postgres@127.0.0.1:{proxy.port}/postgres"
    server = ServerProcess(settings.with_overrides(database_url=url), CHATD_MESSAGE_RATE="0")
    posts = Posts()
    stored = posts.stored
    async with aiohttp.ClientSession() as session:
        try:
            await server.start()
            api = Api(session, base_url=server.url)
            token = await api.user_token("alice")
            room_id = await api.create_room(token)
            stop = asyncio.Event()
            posting = [
                asyncio.create_task(posts.until(api, token, room_id, n, stop)) for n in range(3)
            ]
            resets = 0
            for _ in range(3):
                mark = len(stored)
                await wait_until(lambda mark=mark: len(stored) >= mark + 20, within=60)
                resets += proxy.open_connections
                proxy.reset()
            healed_at = time.monotonic()
            mark = len(stored)
            await wait_until(lambda: len(stored) >= mark + 20, within=60)
            healed = time.monotonic() - healed_at
            proxy.delay = 0.05
            mark = len(stored)
            await wait_until(lambda: len(stored) >= mark + 20, within=60)
            stop.set()
            await asyncio.gather(*posting)
            rows = await stored_rows(private_postgres.url, room_id)
            pool = await metric_lines(session, server.url, "chatd_pg_pool_connections")
        finally:
            server.stop()
    statuses, other_5xx = posts.statuses, posts.other_5xx()
    figure(
        f"connections reset {resets}, non-503 5xx {other_5xx}, hangs {statuses['hang']}, "
        f"503 {statuses[503]} (without Retry-After {posts.no_retry_after}), "
        f"slowest answer {posts.slowest:.2f} s, posts stored {len(stored)}, "
        f"seconds to heal after the last reset {healed:.1f}, "
        f"proxied connections {proxy.open_connections} for a pool of {pool}"
    )
    assert resets >= 3
    assert set(statuses) <= {200, 201, 503} and posts.no_retry_after == 0, statuses
    assert sorted(stored) == sorted(set(stored)) and set(stored) <= {r["seq"] for r in rows}
    client_ids = Counter(r["client_id"] for r in rows if r["client_id"])
    assert max(client_ids.values()) == 1, "one row per client_id"
    assert proxy.open_connections == pool, "PostgreSQL sees exactly the pool's connections"


async def stored_rows(url: str, room_id: int) -> list:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetch("SELECT seq, client_id FROM messages WHERE room_id = $1", room_id)
    finally:
        await conn.close()


async def gauges(session, url: str) -> tuple[float, float, float]:
    """(open sockets, sessions, asyncio tasks) of a process."""
    return (
        await metric(session, url, "chatd_ws_connections"),
        await metric(session, url, "chatd_ws_sessions"),
        await metric(session, url, "chatd_asyncio_tasks"),
    )


async def wait_until_async(read, done, within: float) -> float:
    start = time.monotonic()
    async with asyncio.timeout(within):
        while not done(await read()):  # noqa: ASYNC110 (polls a scrape)
            await asyncio.sleep(0.05)
    return time.monotonic() - start


async def settled(session, url: str, before: float) -> int:
    """asyncio tasks beyond `before`, once they settle (a scrape's own tasks come and go)."""
    extra = 0
    for _ in range(50):
        extra = int(await metric(session, url, "chatd_asyncio_tasks") - before)
        if extra <= 0:
            return extra
        await asyncio.sleep(0.1)
    return extra


async def metric_lines(session, url: str, name: str) -> int:
    async with session.get(f"{url}/metrics") as response:
        text = await response.text()
    return sum(int(float(v)) for v in re.findall(rf"^{name}\{{[^}}]*\}} (\S+)$", text, re.M))
