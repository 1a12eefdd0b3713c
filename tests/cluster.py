"""Two real `chatd serve` processes sharing PostgreSQL and Redis, and the helpers of the tests
that drive them."""

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator

import aiohttp
import pytest

from chatd.config import Settings
from tests.support import Api, ServerProcess
from tests.wsclient import WsClient, seqs


class Cluster:
    def __init__(self, session: aiohttp.ClientSession, a: ServerProcess, b: ServerProcess):
        self.session = session
        self.a, self.b = a, b
        self.http_a, self.http_b = Api(session, base_url=a.url), Api(session, base_url=b.url)
        self._names = itertools.count(1)
        self.clients: list[WsClient] = []

    def server(self, index: int) -> ServerProcess:
        return (self.a, self.b)[index % 2]

    async def users(self, count: int, room_id: int | None = None) -> list[str]:
        """New users (each joined to room_id if given), their access tokens."""
        tokens = []
        for _ in range(count):
            token = await self.http_a.user_token(f"user{next(self._names)}")
            if room_id is not None:
                await self.http_b.join(token, room_id)
            tokens.append(token)
        return tokens

    async def connect(self, server: ServerProcess, token: str, **kwargs) -> WsClient:
        client = await WsClient.connect(server.url, token, session=self.session, **kwargs)
        self.clients.append(client)
        return client


async def send_all(client: WsClient, room_id: int, count: int, tag: str) -> None:
    """Pipeline `count` send_message frames and wait for every ack."""
    for n in range(count):
        await client.send(
            {"type": "send_message", "room_id": room_id, "body": f"{tag}-{n}", "ref": n}
        )
    acked = 0
    async with asyncio.timeout(120):
        while acked < count:
            frame = await client.recv(120)
            assert frame["type"] != "error", frame
            acked += frame["type"] == "ack"


def until_seq(last: int):
    return lambda got: bool(got) and got[-1]["seq"] >= last


def assert_gapless(messages: list[dict], first: int, last: int) -> None:
    assert seqs(messages) == list(range(first, last + 1))
    assert len({m["id"] for m in messages}) == len(messages)


@contextlib.asynccontextmanager
async def running_cluster(settings: Settings, **env: str) -> AsyncIterator[Cluster]:
    """Two processes, with `env` on top of the settings (no message limit unless it says)."""
    env = {"CHATD_MESSAGE_RATE": "0", **env}
    a, b = ServerProcess(settings, **env), None
    try:
        await a.start()
        b = await ServerProcess(settings, **env).start()
        async with aiohttp.ClientSession() as session:
            cluster = Cluster(session, a, b)
            try:
                yield cluster
            finally:
                for client in cluster.clients:
                    await client.ws.close()
    finally:
        for server in (a, b):
            if server is not None and not server.killed and server.stop() != 0:
                pytest.fail(f"chatd serve did not stop cleanly: {server.output()}")
