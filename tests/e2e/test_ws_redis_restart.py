"""Redis itself restarts under two chatd processes: every connected client still ends with every
message, in order; what was posted while Redis was down comes from PostgreSQL."""

from collections.abc import Iterator

import aiohttp
import pytest

from tests.services import RedisProcess
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient, seqs

pytestmark = pytest.mark.slow


@pytest.fixture
def private_redis(tmp_path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    yield server
    server.stop()


async def test_clients_get_everything_across_a_redis_restart(settings, private_redis):
    await private_redis.start()
    settings = settings.with_overrides(redis_url=private_redis.url)
    a = await ServerProcess(settings, CHATD_MESSAGE_RATE="0").start()
    b = None
    try:
        b = await ServerProcess(settings, CHATD_MESSAGE_RATE="0").start()
        async with aiohttp.ClientSession() as session:
            await scenario(session, a, b, private_redis)
    finally:
        for server in (a, b):
            if server is not None:
                server.stop()


async def scenario(session, a: ServerProcess, b: ServerProcess, redis_server: RedisProcess):
    http_a, http_b = Api(session, base_url=a.url), Api(session, base_url=b.url)
    owner = await http_a.user_token("owner")
    room_id = await http_a.create_room(owner)
    readers = [await http_a.user_token(f"reader{n}") for n in range(2)]
    for token in readers:
        await http_b.join(token, room_id)
    clients = [
        await WsClient.connect(server.url, token, session=session)
        for server, token in zip((a, b), readers, strict=True)
    ]
    first = 3
    for n in range(10):
        await http_a.post(owner, room_id, f"before {n}")

    redis_server.stop()
    for n in range(3):  # stored; their publication is lost
        await (http_a, http_b)[n % 2].post(owner, room_id, f"while down {n}")
    await redis_server.start()
    # Nothing new is published: only the check after the reconnect can bring these.
    down_last = first + 13 - 1
    for client in clients:
        got = await client.collect_messages(room_id, until_seq(down_last), within=30)
        assert seqs(got) == list(range(first, down_last + 1))

    for n in range(10):
        await (http_a, http_b)[n % 2].post(owner, room_id, f"after {n}")
    for client in clients:
        got = await client.collect_messages(room_id, until_seq(down_last + 10))
        assert seqs(got) == list(range(down_last + 1, down_last + 11))
        await client.ws.close()


def until_seq(last: int):
    return lambda got: bool(got) and got[-1]["seq"] >= last
