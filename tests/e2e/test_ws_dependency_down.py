"""PostgreSQL going down under an open socket: frames get `unavailable`, the socket stays open,
and it works again once PostgreSQL is back."""

import asyncio
import dataclasses

import pytest

from chatd.app import create_app
from chatd.infrastructure.db import migrate
from tests.services import stop_postgres
from tests.support import Api
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow


async def test_frames_answer_unavailable_while_postgres_is_down(
    settings, own_postgres, aiohttp_client
):
    url = own_postgres.get_uri()
    await migrate(url, settings.sql_dir)
    api = Api(await aiohttp_client(create_app(dataclasses.replace(settings, database_url=url))))
    token = await api.user_token("alice")
    _, room = await api.call("POST", "/api/rooms", token=token, json={"name": "general"})
    client = await WsClient.connect(api.base_url, token)
    frame = {"type": "send_message", "room_id": room["id"], "body": "hello"}

    await stop_postgres(own_postgres)
    refused = await client.request(frame)
    assert (refused["type"], refused["code"]) == ("error", "unavailable")

    await asyncio.to_thread(own_postgres.ensure_postgres_running)
    sent = await client.request(frame)
    assert sent["type"] == "ack"
    assert (await client.expect("new_message"))["message"] == sent["message"]
    await client.close()
