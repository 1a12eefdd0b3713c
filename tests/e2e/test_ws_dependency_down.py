"""PostgreSQL going down under an open socket: frames get `unavailable`, the socket stays open,
and it works again once PostgreSQL is back."""

import asyncio
import dataclasses
import os
import signal
import tempfile
from collections.abc import Iterator

import pgserver
import pytest

from chatd.app import create_app
from chatd.infrastructure.db import migrate
from tests.support import Api
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow


@pytest.fixture
def own_postgres() -> Iterator[pgserver.PostgresServer]:
    """A PostgreSQL of this test's own, so that stopping it harms no other test."""
    server = pgserver.get_server(
        tempfile.mkdtemp(prefix="chatd-test-wsdown-"), cleanup_mode="delete"
    )
    yield server
    server.cleanup()


async def stop(server: pgserver.PostgresServer) -> None:
    pid = server.get_pid()
    os.kill(pid, signal.SIGINT)
    async with asyncio.timeout(10):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.1)


async def test_frames_answer_unavailable_while_postgres_is_down(
    settings, own_postgres, aiohttp_client
):
    url = own_postgres.get_uri()
    await migrate(url, settings.sql_dir)
    api = Api(await aiohttp_client(create_app(dataclasses.replace(settings, database_url=url))))
    token = await api.user_token("alice")
    _, room = await api.call("POST", "/api/rooms", token=token, json={"name": "general"})
    client = await WsClient.connect(str(api.client.make_url("")).rstrip("/"), token)
    frame = {"type": "send_message", "room_id": room["id"], "body": "hello"}

    await stop(own_postgres)
    refused = await client.request(frame)
    assert (refused["type"], refused["code"]) == ("error", "unavailable")

    await asyncio.to_thread(own_postgres.ensure_postgres_running)
    sent = await client.request(frame)
    assert sent["type"] == "ack"
    assert (await client.expect("new_message"))["message"] == sent["message"]
    await client.close()
