"""/metrics of a real `chatd serve`, scraped with prometheus_client's parser, while messages
flow, a client that never reads is dropped, a login limit refuses, and Redis restarts."""

import asyncio

import aiohttp
import pytest

from tests.e2e.test_ws_redis_restart import RedisProcess
from tests.fake_streams import until
from tests.rawws import RawWs
from tests.scrape import Samples, scrape, scrape_until
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

BIG_BODY = "x" * 3990  # big frames, so the client that never reads fills its queue soon
MAX_FLOOD = 4000


def delta(after: Samples, before: Samples, *key) -> float:
    return after.get(key, 0) - before.get(key, 0)


async def test_counters_move_with_traffic_a_slow_consumer_and_a_redis_restart(settings, tmp_path):
    redis_server = RedisProcess(tmp_path)
    await redis_server.start()
    settings = settings.with_overrides(redis_url=redis_server.url)
    server = ServerProcess(settings, CHATD_MESSAGE_RATE="0", CHATD_LOGIN_RATE="1")
    try:
        await server.start()
        async with aiohttp.ClientSession() as session:
            await scenario(session, server, redis_server)
    finally:
        returncode = server.stop()
        redis_server.stop()
    assert returncode == 0, server.output()


async def scenario(session: aiohttp.ClientSession, server: ServerProcess, redis_server) -> None:
    url, http = f"{server.url}/metrics", Api(session, base_url=server.url)
    owner, reader, sleeper = [await http.user_token(name) for name in ("owner", "reader", "zzz")]
    room_id = await http.create_room(owner)
    for token in (reader, sleeper):
        await http.join(token, room_id)
    client = await WsClient.connect(server.url, reader, session=session)
    received: list[int] = []
    reading = asyncio.create_task(read_all(client, room_id, received))
    base = await scrape(session, url)

    # Messages flow.
    for n in range(20):
        await http.post(owner, room_id, f"m{n}")
    flowing = await scrape_until(
        session, lambda s: s[("chatd_ws_frames_delivered_total",)] >= 20, url=url
    )
    assert delta(flowing, base, "chatd_messages_stored_total", ("kind", "user")) == 20
    assert delta(flowing, base, "chatd_events_published_total", ("type", "MessagePosted")) == 20
    assert flowing[("chatd_ws_sessions",)] == 1 and flowing[("chatd_ws_connections",)] == 1
    route = ("route", "/api/rooms/{room_id}/messages")
    posts = ("chatd_http_request_duration_seconds_count", ("method", "POST"), route)
    assert delta(flowing, base, *posts, ("status", "201")) == 20

    # A client that never reads is dropped with 1013; the reader is not.
    slow = await asyncio.to_thread(RawWs, "127.0.0.1", server.port)
    await asyncio.to_thread(slow.send_json, {"type": "auth", "token": sleeper})
    await scrape_until(session, lambda s: s[("chatd_ws_sessions",)] == 2, url=url)
    dropped = await flood_until_dropped(http, owner, room_id, session, url)
    assert dropped[("chatd_ws_queue_overflows_total",)] == 1
    slow.close()

    # Failed logins past CHATD_LOGIN_RATE=1 are refused, and counted.
    wrong = {"username": "owner", "password": "not the password"}
    statuses = [(await http.call("POST", "/api/auth/login", json=wrong))[0] for _ in range(2)]
    assert statuses == [401, 429]

    # Redis restarts; what was posted meanwhile comes from PostgreSQL (a gap fill).
    redis_server.stop()
    for n in range(3):
        await http.post(owner, room_id, f"while redis is down {n}")
    await redis_server.start()
    last = (await http.post(owner, room_id, "after the restart"))["seq"]
    after = await scrape_until(
        session,
        lambda s: (
            s[("chatd_bus_reconnects_total",)] >= 1 and s[("chatd_feed_gap_fills_total",)] >= 1
        ),
        url=url,
    )
    assert after[("chatd_rate_limit_refusals_total", ("kind", "login"))] == 1
    assert after[("chatd_feed_messages_filled_total",)] >= 1
    await until(lambda: bool(received) and received[-1] >= last, within=60)
    assert received == list(range(received[0], last + 1))  # in order, nothing lost
    reading.cancel()
    await client.close()


async def read_all(client: WsClient, room_id: int, received: list[int]) -> None:
    while True:
        frame = await client.recv(120)
        message = frame.get("message") or {}
        if frame["type"] in {"new_message", "system_message"} and message["room_id"] == room_id:
            received.append(message["seq"])


async def flood_until_dropped(http: Api, token: str, room_id: int, session, url: str) -> Samples:
    """Post big messages, a batch at a time, until the process reports an overflow."""
    for batch in range(MAX_FLOOD // 100):
        await asyncio.gather(
            *(http.post(token, room_id, f"{BIG_BODY}{batch}-{n}") for n in range(100))
        )
        samples = await scrape(session, url)
        if samples[("chatd_ws_queue_overflows_total",)] >= 1:
            return samples
    raise AssertionError(f"no overflow after {MAX_FLOOD} messages")
