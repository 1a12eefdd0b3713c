"""A logout made while another process's Pub/Sub connection is down still closes the user's
sockets there, once its subscriber is back (reason `login ended`): Pub/Sub drops the notice, so
after every reconnect a process asks PostgreSQL when each of its users last had a login end and
closes the sockets opened before then. Whichever way each socket learns of it, it is closed."""

import aiohttp
import pytest
import redis.asyncio as redis

from tests.cluster import running_cluster
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

USERS = 5  # each logout races the subscriber's reconnect: some notices get through in time


async def test_a_logout_during_a_pubsub_cut_closes_the_sockets_elsewhere(
    settings, redis_url, figure
):
    admin = redis.Redis.from_url(redis_url)
    try:
        async with running_cluster(settings) as cluster:
            logins, sockets = [], []
            for n in range(USERS):
                await cluster.http_a.register(f"leaver{n}")
                logins.append(await cluster.http_a.login(f"leaver{n}"))
                sockets.append(await cluster.connect(cluster.b, logins[-1]["access_token"]))
            bystander = await cluster.connect(cluster.b, await cluster.http_a.user_token("stays"))
            for login in logins:  # logged out on a while b's subscriber is cut off
                await admin.client_kill_filter(_type="pubsub")
                status, _ = await cluster.http_a.call(
                    "POST", "/api/auth/logout", json={"refresh_token": login["refresh_token"]}
                )
                assert status == 204
            closes = [await closing(socket, within=15) for socket in sockets]
            assert not bystander.ws.closed
    finally:
        await admin.aclose()
    reasons = [reason for _, reason in closes]
    figure(
        f"{len(closes)} sockets of users logged out during a Pub/Sub cut closed: "
        f"{reasons.count('logged out')} by the notice, "
        f"{reasons.count('login ended')} by the check after the reconnect"
    )
    assert {code for code, _ in closes} == {4401}, closes
    assert set(reasons) <= {"logged out", "login ended"}, reasons


async def closing(socket: WsClient, *, within: float) -> tuple[int | None, str]:
    """Frames are passed over until the server closes the socket: its close code and reason."""
    while True:
        message = await socket.ws.receive(timeout=within)
        if message.type == aiohttp.WSMsgType.CLOSE:
            return message.data, message.extra or ""
        if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return socket.ws.close_code, ""
