"""nginx (Debian's, with deploy/nginx.conf) in front of three real `chatd serve` processes on one
PostgreSQL and Redis: sockets spread over the processes, and every client gets every message in
order while one process is killed and another is told to stop."""

import asyncio
import signal
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

from tests.nginx_cluster import (
    INSTANCE,
    NginxCluster,
    Reader,
    post_all,
    running_nginx_cluster,
    wait_for,
)
from tests.support import ServerProcess

pytestmark = pytest.mark.slow

READERS = 6
TOTAL = 300


@pytest.fixture
async def cluster(settings, tmp_path) -> AsyncIterator[NginxCluster]:
    async with running_nginx_cluster(settings, tmp_path / "nginx", CHATD_LOGIN_RATE="3") as c:
        yield c


async def test_sockets_spread_over_the_processes_and_all_get_every_message_in_order(cluster):
    owner = (await cluster.users(1))[0]
    room_id = await cluster.http.create_room(owner)
    readers = [
        Reader(cluster, t, room_id, after=READERS) for t in await cluster.users(READERS, room_id)
    ]
    reading = [cluster.spawn(r.run(READERS + 2 * TOTAL)) for r in readers]
    await wait_for(lambda: all(r.connected.is_set() for r in readers))
    processes = {await cluster.instance_of(server) for server in cluster.servers}
    assert {r.instances[0] for r in readers} == processes  # least_conn: two sockets on each

    answered: set[str] = set()

    async def post(tag: str) -> None:
        for n in range(TOTAL):
            url = f"{cluster.nginx.url}/api/rooms/{room_id}/messages"
            headers = {"Authorization": f"Bearer {owner}"}
            async with cluster.session.post(url, json={"body": f"{tag}{n}"}, headers=headers) as r:
                assert r.status == 201
                answered.add(r.headers[INSTANCE])
                assert len(r.headers["X-Request-Id"]) == 32  # nginx's $request_id, passed on

    await asyncio.gather(post("a"), post("b"))
    await asyncio.wait_for(asyncio.gather(*reading), 120)
    for reader in readers:
        assert reader.seqs == list(range(READERS + 1, READERS + 2 * TOTAL + 1))
    assert answered == processes


async def test_a_killed_process_loses_no_message_its_clients_resume_elsewhere(cluster):
    victim = cluster.servers[1]
    readers, victim_id = await stream_while(cluster, victim, kill)
    moved = [r for r in readers if r.instances[0] == victim_id]
    assert moved, "least_conn put sockets on every process"
    for reader in moved:
        assert len(reader.instances) >= 2 and victim_id not in reader.instances[1:]


async def test_a_process_told_to_stop_drains_and_its_clients_move_on(cluster):
    leaving = cluster.servers[2]
    readers, leaving_id = await stream_while(cluster, leaving, terminate)
    moved = [r for r in readers if r.instances[0] == leaving_id]
    assert moved
    for reader in moved:
        assert reader.close_codes[0] == 1001  # through nginx, after its queue drained
        assert leaving_id not in reader.instances[1:]
    assert await asyncio.to_thread(leaving.process.wait, 30) == 0, leaving.output()


async def test_the_failed_login_limit_counts_the_client_behind_nginx(cluster):
    """Clients on 127.0.0.2 and 127.0.0.3 (nginx is 127.0.0.1, the one trusted proxy); what a
    client writes into X-Forwarded-For itself is not believed."""
    url = f"{cluster.nginx.url}/api/auth/login"

    async def login_from(address: str, n: int, spoofed: str) -> int:
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        async with aiohttp.ClientSession(connector=connector) as session:
            body = {"username": f"nobody{n}", "password": "wrong password"}
            async with session.post(url, json=body, headers={"X-Forwarded-For": spoofed}) as r:
                return r.status

    statuses = [await login_from("127.0.0.2", n, f"203.0.113.{n}") for n in range(4)]
    assert statuses == [401, 401, 401, 429]  # CHATD_LOGIN_RATE=3 for 127.0.0.2
    assert await login_from("127.0.0.3", 9, "203.0.113.1") == 401


async def stream_while(
    cluster: NginxCluster,
    target: ServerProcess,
    disrupt: Callable[[NginxCluster, ServerProcess], Awaitable[None]],
) -> tuple[list[Reader], str]:
    """Readers through nginx; TOTAL posts through nginx; `disrupt` the target mid-stream. Every
    reader ends with every seq, in order, once each."""
    owner = (await cluster.users(1))[0]
    room_id = await cluster.http.create_room(owner)
    readers = [
        Reader(cluster, t, room_id, after=READERS) for t in await cluster.users(READERS, room_id)
    ]
    last = READERS + TOTAL
    reading = [cluster.spawn(r.run(last)) for r in readers]
    await wait_for(lambda: all(r.connected.is_set() for r in readers))
    target_id = await cluster.instance_of(target)
    posting = cluster.spawn(post_all(cluster.http, owner, room_id, TOTAL, "m"))
    await wait_for(lambda: max(r.last for r in readers) >= READERS + TOTAL // 4, within=60)
    await disrupt(cluster, target)
    await asyncio.wait_for(posting, 120)
    await asyncio.wait_for(asyncio.gather(*reading), 120)
    for reader in readers:
        assert reader.seqs == list(range(READERS + 1, last + 1))
    return readers, target_id


async def kill(cluster: NginxCluster, server: ServerProcess) -> None:
    server.process.kill()


async def terminate(cluster: NginxCluster, server: ServerProcess) -> None:
    """SIGTERM: /readyz answers 503 from the signal on (the port stays open a second for load
    balancers that poll it), until the port closes."""
    server.process.send_signal(signal.SIGTERM)
    statuses = await readiness_until_closed(server.url)
    assert statuses[-1] == "closed" and 503 in statuses, statuses
    assert 200 not in statuses[statuses.index(503) :], statuses


async def readiness_until_closed(url: str) -> list[int | str]:
    statuses: list[int | str] = []
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session, asyncio.timeout(30):
        while not statuses or statuses[-1] != "closed":
            try:
                async with session.get(f"{url}/readyz") as response:
                    statuses.append(response.status)
            except aiohttp.ClientConnectionError:
                statuses.append("closed")
    return statuses
