"""Sessions that end everywhere, across two real `chatd serve` processes: logout and a replayed
refresh token close the user's sockets on both with 4401 within a second; an access token that
expires closes its socket unless a fresh one was sent on it in time."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.cluster import Cluster, running_cluster

pytestmark = pytest.mark.slow

ACCESS_TTL = 6  # seconds, for the expiry test
WITHIN_A_SECOND = 1.0


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings) as cluster:
        yield cluster


@pytest.fixture
async def short_lived(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings, CHATD_ACCESS_TTL=str(ACCESS_TTL)) as cluster:
        yield cluster


async def closed_everywhere(sockets, start: float) -> list[int | None]:
    codes = await asyncio.gather(*(s.closed(within=WITHIN_A_SECOND) for s in sockets))
    took = asyncio.get_running_loop().time() - start
    print(f"\n{len(sockets)} sockets on two processes closed {took * 1000:.0f} ms after the call")
    return codes


async def test_logout_closes_the_users_sockets_on_both_processes(cluster):
    (alice,) = await cluster.users(1)
    other = await cluster.connect(cluster.a, alice)
    await cluster.http_a.register("bob")
    pair = await cluster.http_a.login("bob")
    sockets = [
        await cluster.connect(server, pair["access_token"]) for server in (cluster.a, cluster.b)
    ]

    refresh = {"refresh_token": pair["refresh_token"]}
    start = asyncio.get_running_loop().time()
    status, _ = await cluster.http_b.call("POST", "/api/auth/logout", json=refresh)
    assert status == 204
    assert await closed_everywhere(sockets, start) == [4401, 4401]
    status, body = await cluster.http_a.call("POST", "/api/auth/refresh", json=refresh)
    assert (status, body["error"]["code"]) == (401, "token_revoked")
    assert (await other.request({"type": "typing", "room_id": 1}))["type"] == "error", "still open"


async def test_a_replayed_refresh_token_closes_the_users_sockets(cluster):
    await cluster.http_a.register("carol")
    first = await cluster.http_a.login("carol")
    replayed = {"refresh_token": first["refresh_token"]}
    status, second = await cluster.http_b.call("POST", "/api/auth/refresh", json=replayed)
    assert status == 200
    sockets = [
        await cluster.connect(server, second["access_token"]) for server in (cluster.b, cluster.a)
    ]
    start = asyncio.get_running_loop().time()
    status, body = await cluster.http_a.call("POST", "/api/auth/refresh", json=replayed)
    assert (status, body["error"]["code"]) == (401, "token_reused")
    assert await closed_everywhere(sockets, start) == [4401, 4401]


async def test_an_expired_token_closes_its_socket_unless_renewed_in_time(short_lived):
    cluster = short_lived
    room_id = await cluster.http_a.create_room(await cluster.http_a.user_token("alice"))
    await cluster.http_a.register("bob")
    pair = await cluster.http_a.login("bob")
    await cluster.http_b.join(pair["access_token"], room_id)
    plain = await cluster.connect(cluster.a, pair["access_token"])
    renewed = await cluster.connect(cluster.b, pair["access_token"])

    await asyncio.sleep(1.5)  # so that a token issued now expires later than the first one
    refresh = {"refresh_token": pair["refresh_token"]}
    _, fresh = await cluster.http_a.call("POST", "/api/auth/refresh", json=refresh)
    ack = await renewed.request({"type": "auth", "token": fresh["access_token"]})
    assert ack == {"type": "ack", "ref": ack["ref"]}

    assert await plain.closed(within=ACCESS_TTL + 5) == 4401
    alice = (await cluster.http_b.login("alice"))["access_token"]  # her first one expired too
    posted = await cluster.http_b.post(alice, room_id, "still there?")
    assert (await renewed.expect("new_message"))["message"] == posted
    assert await renewed.closed(within=ACCESS_TTL + 5) == 4401, "until the fresh token expires"
